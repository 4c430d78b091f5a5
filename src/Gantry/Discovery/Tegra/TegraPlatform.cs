using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery.Tegra;

// Whether a driver root is a Jetson (Tegra) system without NVML, where the runtime's auto mode means csv
// (toolkit.md §1.4 "Mode resolution"): /etc/nv_tegra_release, or a soc0 family starting with "tegra".
internal static class TegraPlatform
{
    public const string ReleaseFile = "/etc/nv_tegra_release";

    public static bool HasTegraFiles(HostRoots roots)
    {
        if (File.Exists(roots.InDriverRoot(ReleaseFile))) return true;
        var family = roots.InSys("devices/soc0/family");
        try { return File.Exists(family) && File.ReadAllText(family).TrimStart().StartsWith("tegra", StringComparison.OrdinalIgnoreCase); }
        catch (IOException) { return false; }
    }

    public const string OrinCompatRoot = "/usr/local/cuda/compat_orin";

    /// <summary>NVML on a Jetson (newer JetPacks have it) for the CUDA version and GPU names; null when there is none.</summary>
    public static NvmlSnapshot? Nvml(HostRoots roots, Log log)
    {
        var nvml = new LibraryLocator(roots, [], log).Locate("libnvidia-ml.so.1").FirstOrDefault();
        if (nvml is null) return null;
        if (Discovery.Nvml.NvmlLibrary.TryQuery(nvml, out var snapshot, out var error)) return snapshot;
        log.Warning($"NVML at {nvml} could not be used ({error}); no CUDA compat hook and no CUDA version for requirements");
        return null;
    }

    /// <summary>The configured compat root, else the Orin one when NVML names an Orin iGPU, else none (the hook's default).</summary>
    public static string? CompatContainerRoot(string? configured, NvmlSnapshot? nvml) =>
        configured is { Length: > 0 } ? configured
        : nvml?.Gpus.Any(g => g.Name?.Contains("Orin (nvgpu)", StringComparison.Ordinal) == true) == true ? OrinCompatRoot : null;

    /// <summary>Tegra files and no NVML: the cheap check first, so a GPU server pays two stats.</summary>
    public static bool IsTegraWithoutNvml(HostRoots roots, Log log) =>
        HasTegraFiles(roots) && new LibraryLocator(roots, [], log).Locate("libnvidia-ml.so.1").Count == 0;
}

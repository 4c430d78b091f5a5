using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.ContainerCli;

// MIG capability files under /proc/driver/nvidia/capabilities and, when the kernel exposes them as devices
// ("nvidia-caps" in /proc/devices), the /dev/nvidia-caps/nvidia-capN node named by each file's DeviceFileMinor.
internal sealed class MigCaps(HostRoots roots)
{
    const string CapsPath = "/proc/driver/nvidia/capabilities";
    readonly bool _devStyle = ProcDevices.TryRead(roots, out var majors) && majors.ContainsKey("nvidia-caps");

    /// <summary>The GPUs whose MIG config/monitor caps to list: null when not asked; only "all" is supported.</summary>
    public static List<GpuInfo>? Select(string what, string? spec, DeviceSelection sel)
    {
        if (spec is null) return null;
        foreach (var item in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
            if (!item.Equals("all", StringComparison.OrdinalIgnoreCase))
                throw new ContainerCliException($"{what} error: {item}: only 'all' devices are currently supported");
        if (sel.Migs.Count > 0 && !sel.All)
            throw new ContainerCliException($"{what} error: {spec}: cannot enable {what} with specific MIG devices selected");
        return sel.Gpus.Where(g => g.MigEnabled || sel.Migs.Exists(m => m.Parent == g)).ToList();
    }

    public void WriteAccess(TextWriter w, GpuInfo parent, MigInfo m)
    {
        var gi = $"{CapsPath}/gpu{parent.Minor}/mig/gi{m.GpuInstanceId}";
        var ci = $"{gi}/ci{m.ComputeInstanceId}";
        w.WriteLine($"{gi}/access");
        w.WriteLine($"{ci}/access");
        if (!_devStyle) return;
        WriteNode(w, $"{gi}/access");
        WriteNode(w, $"{ci}/access");
    }

    public void WriteGlobal(TextWriter w, string file, List<GpuInfo> gpus)
    {
        w.WriteLine($"{CapsPath}/mig/{file}");
        if (_devStyle) WriteNode(w, $"{CapsPath}/mig/{file}");
        var minors = ProcDriver.MigMinors(roots);
        foreach (var g in gpus)
        {
            w.WriteLine($"{CapsPath}/gpu{g.Minor}");
            if (!_devStyle) continue;
            w.WriteLine("/dev/nvidia-caps");
            foreach (var (key, minor) in minors)
                if (key.StartsWith($"gpu{g.Minor}/", StringComparison.Ordinal)) w.WriteLine($"/dev/nvidia-caps/nvidia-cap{minor}");
        }
    }

    void WriteNode(TextWriter w, string procPath) => w.WriteLine($"/dev/nvidia-caps/nvidia-cap{CapMinor(procPath)}");

    /// <summary>True when the kernel exposes MIG capabilities as /dev/nvidia-caps nodes ("nvidia-caps" in /proc/devices).</summary>
    public bool DevStyle => _devStyle;

    /// <summary>The DeviceFileMinor of a capability file (a /proc/driver/nvidia/capabilities/… path).</summary>
    public int CapMinor(string procPath)
    {
        var file = roots.InProc(procPath["/proc/".Length..]);
        if (!File.Exists(file)) throw new ContainerCliException($"detection error: open failed: {procPath}: no such file or directory");
        var fields = ProcDriver.ParseFields(File.ReadLines(file));
        if (!fields.TryGetValue("DeviceFileMinor", out var minor) || !int.TryParse(minor, out var m))
            throw new ContainerCliException($"detection error: {procPath}: no DeviceFileMinor in the capability file");
        return m;
    }

    public const string CapabilitiesPath = CapsPath;
}

internal static class ContainerCliVersion
{
    public static string Text =>
        $"cli-version: {VersionInfo.ToolkitVersion}\nlib-version: {VersionInfo.ToolkitVersion}\nbuild date: unknown\nbuild revision: {VersionInfo.Commit}\n" +
        $"build compiler: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} (NativeAOT)\n" +
        $"build platform: {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}\nbuild flags: none\n{VersionInfo.GantryLine}\n";
}

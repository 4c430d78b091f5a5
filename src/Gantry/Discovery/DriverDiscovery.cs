using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery;

internal sealed record DiscoveryOptions
{
    /// <summary>How the user names the driver root, for the hints of the errors ("--driver-root", or a config key).</summary>
    public string RootSetting { get; init; } = "--driver-root";
    public IReadOnlyList<string> LibrarySearchPaths { get; init; } = [];
    public IReadOnlyList<string> ConfigSearchPaths { get; init; } = [];
    public bool UseNvml { get; init; } = true;
    /// <summary>False: skip the graphics files (EGL, Vulkan, X.Org) except the OpenCL ICD, for a request without graphics.</summary>
    public bool Graphics { get; init; } = true;
    /// <summary>How NVML is asked; null loads it (container starts pass a cache, Inventory/NvmlSnapshotCache).</summary>
    public NvmlQuery? QueryNvml { get; init; }
    /// <summary>False: leave the persistenced / fabric manager sockets out (feature flag disable-ipc-discoverer).</summary>
    public bool IpcSockets { get; init; } = true;
    /// <summary>Also locate the libraries the original names explicitly (feature flag enable-explicit-driver-libraries).</summary>
    public bool ExplicitLibraries { get; init; }
    /// <summary>Also the 32-bit driver libraries of the ld.so.cache (jit-cdi with the compat32 capability; the
    /// original's CDI modes leave them out).</summary>
    public bool Compat32 { get; init; }
}

/// <summary>Asks the NVML library at <paramref name="library"/> (under <paramref name="roots"/>) for its snapshot; failures are an error text.</summary>
internal delegate bool NvmlQuery(HostRoots roots, string library, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NvmlSnapshot? snapshot,
    [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error);

// "What is on this host", and nothing about containers: the driver version, its files, and its GPUs.
internal static class DriverDiscovery
{
    public static DriverInventory Discover(HostRoots roots, DiscoveryOptions options, Log log)
    {
        if (!Directory.Exists(roots.DriverRoot))
            throw new GantryException($"driver root {roots.DriverRoot} {(File.Exists(roots.DriverRoot) ? "is a file, not a directory" : "does not exist")}; " +
                                      $"point {options.RootSetting} at the directory the driver is installed in");
        var warnings = new List<string>();
        void Warn(string w) { warnings.Add(w); log.Warning(w); }

        var libs = new LibraryLocator(roots, options.LibrarySearchPaths, log);
        if (libs.CacheProblem is not null) warnings.Add(libs.CacheProblem + "; fell back to the library search paths");

        NvmlSnapshot? nvml = null;
        var nvmlPath = libs.Locate("libnvidia-ml.so.1").FirstOrDefault();
        if (options.UseNvml && nvmlPath is not null)
        {
            var query = options.QueryNvml ?? LoadNvml;
            if (query(roots, nvmlPath, out nvml, out var nvmlError)) log.Debug($"NVML at {nvmlPath}: driver {nvml!.DriverVersion}, {nvml.Gpus.Count} GPU(s)");
            else Warn($"NVML at {nvmlPath} could not be used ({nvmlError}); GPU facts come from /proc/driver/nvidia, so compute capability, memory, brand and MIG devices are unknown");
        }
        else if (options.UseNvml)
            Warn($"libnvidia-ml.so.1 was not found under {roots.DriverRoot}; GPU facts come from /proc/driver/nvidia, so compute capability, memory, brand and MIG devices are unknown");

        var version = VersionFromFileName(libs.Locate("libcuda.so.*.*"), "libcuda.so.")
                      ?? VersionFromFileName(libs.Locate("libnvidia-ml.so.*.*"), "libnvidia-ml.so.")
                      ?? nvml?.DriverVersion ?? ProcDriver.DriverVersion(roots);
        if (version is null)
            throw new GantryException($"no NVIDIA driver found under driver root {roots.DriverRoot}: no libcuda.so.*.* or libnvidia-ml.so.*.* " +
                                      $"in its ld.so.cache or library directories; install the driver or point {options.RootSetting} at it");

        var libDirs = libs.Locate($"lib*.so.{version}").Select(p => Path.GetDirectoryName(p)!).Distinct().ToList();
        var libraries = libs.LocateIn(libDirs.Concat(libDirs.Select(d => d + "/vdpau")), $"*.so.{version}");
        foreach (var nvvm in libs.Locate("libnvidia-nvvm70.so.*")) if (!libraries.Contains(nvvm)) libraries.Add(nvvm);
        if (options.ExplicitLibraries)
            foreach (var name in ExplicitLibraryNames)
                foreach (var lib in libs.Locate(name)) if (!libraries.Contains(lib)) libraries.Add(lib);

        var plainDevices = DeviceNodeLocator.AcceptsPlainFiles(roots);
        var devices = new DeviceNodeLocator(roots, plainDevices);
        var gpus = nvml?.Gpus ?? ProcDriver.Gpus(roots);
        if (gpus.Count == 0) Warn("no GPUs found (neither NVML nor /proc/driver/nvidia/gpus listed any)");

        return new DriverInventory
        {
            Roots = roots, Version = version, CudaVersion = nvml?.CudaVersionText, GpuSource = nvml is not null ? "nvml" : "procfs",
            Gpus = gpus, LibraryDirectories = libDirs, Libraries = libraries,
            Libraries32 = options.Compat32 ? Libraries32(libs, version, libDirs) : [],
            Binaries = DriverFiles.Binaries(roots, ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control",
                "nvidia-cuda-mps-server", "nvidia-imex", "nvidia-imex-ctl"]),
            Firmware = DriverFiles.Firmware(roots, version),
            IpcSockets = options.IpcSockets ? DriverFiles.IpcSockets(roots) : [],
            Graphics = options.Graphics ? GraphicsDiscovery.Discover(roots, libs, libDirs, version, options.ConfigSearchPaths)
                : GraphicsDiscovery.OpenClOnly(roots, options.ConfigSearchPaths),
            ControlNodes = devices.Existing(["/dev/nvidia-modeset", "/dev/nvidia-uvm-tools", "/dev/nvidia-uvm", "/dev/nvidiactl"]),
            ImexChannels = devices.Glob(DeviceNodeLocator.ImexChannelDirectory, "channel*"),
            Warnings = warnings, AcceptsPlainDeviceFiles = plainDevices,
        };
    }

    /// <summary>The default <see cref="NvmlQuery"/>: load the library and ask it.</summary>
    internal static bool LoadNvml(HostRoots roots, string library, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NvmlSnapshot? snapshot,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error) => Nvml.NvmlLibrary.TryQuery(library, out snapshot, out error);

    /// <summary>The libraries the original mounts by name with enable-explicit-driver-libraries (their links resolved).</summary>
    public static readonly string[] ExplicitLibraryNames =
    [
        "libEGL.so", "libGL.so", "libGLESv1_CM.so", "libGLESv2.so", "libGLX.so", "libGLdispatch.so", "libOpenCL.so", "libOpenGL.so",
        "libnvidia-api.so", "libnvidia-egl-xcb.so", "libnvidia-egl-xlib.so",
    ];

    // Every *.so.VERSION in the directories where the cache's 32-bit entries put lib*.so.VERSION (and their vdpau).
    static List<string> Libraries32(LibraryLocator libs, string version, List<string> libDirs)
    {
        var dirs = libs.Locate32($"lib*.so.{version}").Select(p => Path.GetDirectoryName(p)!).Distinct().Where(d => !libDirs.Contains(d)).ToList();
        return dirs.Count == 0 ? [] : libs.LocateIn(dirs.Concat(dirs.Select(d => d + "/vdpau")), $"*.so.{version}");
    }

    static string? VersionFromFileName(List<string> paths, string prefix) =>
        paths.Select(Path.GetFileName).FirstOrDefault(n => n!.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
}

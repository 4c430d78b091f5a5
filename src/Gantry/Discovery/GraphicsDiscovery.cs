using Gantry.Host;

namespace Gantry.Discovery;

// The graphics side of the driver: EGL platform libraries, X.Org modules, ICD/EGL/Vulkan config files.
internal static class GraphicsDiscovery
{
    static readonly string[] UsrShareConfigs =
    [
        "glvnd/egl_vendor.d/10_nvidia.json", "egl/egl_external_platform.d/15_nvidia_gbm.json",
        "egl/egl_external_platform.d/10_nvidia_wayland.json", "egl/egl_external_platform.d/09_nvidia_wayland2.json",
        "egl/egl_external_platform.d/20_nvidia_xcb.json", "egl/egl_external_platform.d/20_nvidia_xlib.json",
        "nvidia/nvoptix.bin", "X11/xorg.conf.d/10-nvidia.conf", "X11/xorg.conf.d/nvidia-drm-outputclass.conf",
    ];
    static readonly string[] VulkanConfigs =
    [
        "vulkan/icd.d/nvidia_icd.json", "vulkan/icd.d/nvidia_layers.json", "vulkan/implicit_layer.d/nvidia_layers.json",
        "vulkan/icd.d/nvidia_icd.x86_64.json",
    ];

    public static GraphicsFiles Discover(HostRoots roots, LibraryLocator libs, IReadOnlyList<string> libDirs, string version, IReadOnlyList<string> configSearchPaths)
    {
        var libraries = new List<string>();
        foreach (var p in new[] { "libnvidia-egl-gbm.so.*.*", "libnvidia-egl-wayland.so.*.*", "libnvidia-egl-wayland2.so.*.*",
                     "libnvidia-egl-xcb.so.*.*", "libnvidia-egl-xlib.so.*.*", $"libnvidia-vulkan-producer.so.{version}" })
            libraries.AddRange(libs.Locate(p).Where(l => !libraries.Contains(l)));

        var symlinks = new List<(string, string)>();
        foreach (var a in libs.Locate($"libnvidia-allocator.so.{version}"))
            symlinks.Add(("../libnvidia-allocator.so.1", roots.ToContainerPath(Path.GetDirectoryName(a)!) + "/gbm/nvidia-drm_gbm.so"));
        foreach (var vp in libraries.Where(l => Path.GetFileName(l) == $"libnvidia-vulkan-producer.so.{version}"))
            symlinks.Add(($"libnvidia-vulkan-producer.so.{version}", roots.ToContainerPath(Path.GetDirectoryName(vp)!) + "/libnvidia-vulkan-producer.so"));

        var xorg = new List<string>();
        var moduleDirs = libDirs.SelectMany(d => new[] { d + "/nvidia/xorg", d + "/xorg/modules/drivers", d + "/xorg/modules/extensions",
                d + "/xorg/modules/updates/drivers", d + "/xorg/modules/updates/extensions" })
            .Concat(new[] { "/usr/lib/xorg", "/usr/lib64/xorg" }.SelectMany(b => new[] { "/modules/drivers", "/modules/extensions", "/modules/updates/drivers", "/modules/updates/extensions" }.Select(s => roots.InDriverRoot(b + s))))
            .ToList();
        foreach (var name in new[] { "nvidia_drv.so", $"libglxserver_nvidia.so.{version}" })
        {
            var hit = moduleDirs.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
            if (hit is null) continue;
            xorg.Add(hit);
            if (name.StartsWith("libglxserver", StringComparison.Ordinal))
                symlinks.Add((name, roots.ToContainerPath(Path.GetDirectoryName(hit)!) + "/libglxserver_nvidia.so"));
        }

        var configDirs = ConfigDirs(roots, configSearchPaths);
        var configs = new List<(string, string)>();
        foreach (var rel in UsrShareConfigs) AddFirst(configs, configDirs, rel, "/usr/share/" + rel);
        AddFirst(configs, configDirs, "OpenCL/vendors/nvidia.icd", "/etc/OpenCL/vendors/nvidia.icd");
        foreach (var rel in VulkanConfigs) AddFirst(configs, configDirs.Append(roots.DriverRoot).ToList(), rel, "/etc/" + rel);

        return new GraphicsFiles(libraries, xorg, DriverFiles.Binaries(roots, ["nvidia-xconfig"]), configs, symlinks);
    }

    /// <summary>Only the OpenCL ICD (it comes with compute), for containers that asked for no graphics.</summary>
    public static GraphicsFiles OpenClOnly(HostRoots roots, IReadOnlyList<string> configSearchPaths)
    {
        var configs = new List<(string, string)>();
        AddFirst(configs, ConfigDirs(roots, configSearchPaths), "OpenCL/vendors/nvidia.icd", "/etc/OpenCL/vendors/nvidia.icd");
        return GraphicsFiles.Empty with { Configs = configs };
    }

    static List<string> ConfigDirs(HostRoots roots, IReadOnlyList<string> configSearchPaths) =>
        configSearchPaths.Count > 0 ? configSearchPaths.ToList() : new[] { "/etc" }.Concat(XdgDataDirs()).Select(roots.InDriverRoot).ToList();

    static void AddFirst(List<(string, string)> configs, List<string> dirs, string rel, string containerPath)
    {
        var hit = dirs.Select(d => Path.Combine(d, rel)).FirstOrDefault(File.Exists);
        if (hit is not null) configs.Add((hit, containerPath));
    }

    static IEnumerable<string> XdgDataDirs() =>
        (Environment.GetEnvironmentVariable("XDG_DATA_DIRS") is { Length: > 0 } x ? x : "/usr/local/share:/usr/share")
        .Split(':', StringSplitOptions.RemoveEmptyEntries);
}

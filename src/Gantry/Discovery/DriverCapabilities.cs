namespace Gantry.Discovery;

/// <summary>NVIDIA_DRIVER_CAPABILITIES values; each selects a set of driver files.</summary>
[Flags]
internal enum DriverCapability
{
    None = 0,
    Compute = 1, Compat32 = 2, Graphics = 4, Utility = 8, Video = 16, Display = 32, Ngx = 64,
    All = Compute | Compat32 | Graphics | Utility | Video | Display | Ngx,
}

// Which library belongs to which capability: names are prefixes matched against ld.so.cache keys,
// in the order libnvidia-container looks them up (utility, compute, ngx, video, graphics, glvnd).
internal static class DriverCapabilities
{
    public static readonly (DriverCapability Capability, string[] Prefixes)[] Libraries =
    [
        (DriverCapability.Utility, ["libnvidia-ml.so", "libnvidia-cfg.so", "libnvidia-nscq.so"]),
        (DriverCapability.Compute, ["libcuda.so", "libcudadebugger.so", "libnvidia-opencl.so", "libnvidia-gpucomp.so",
            "libnvidia-ptxjitcompiler.so", "libnvidia-fatbinaryloader.so", "libnvidia-allocator.so", "libnvidia-compiler.so",
            "libnvidia-pkcs11.so", "libnvidia-pkcs11-openssl3.so", "libnvidia-nvvm.so", "libnvidia-tileiras.so"]),
        (DriverCapability.Ngx, ["libnvidia-ngx.so"]),
        (DriverCapability.Video, ["libvdpau_nvidia.so", "libnvidia-encode.so", "libnvidia-opticalflow.so", "libnvcuvid.so"]),
        (DriverCapability.Graphics, ["libnvidia-eglcore.so", "libnvidia-glcore.so", "libnvidia-tls.so", "libnvidia-glsi.so",
            "libnvidia-fbc.so", "libnvidia-ifr.so", "libnvidia-rtcore.so", "libnvoptix.so",
            "libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv2_nvidia.so", "libGLESv1_CM_nvidia.so", "libnvidia-glvkspirv.so", "libnvidia-cbl.so"]),
    ];

    public static readonly string[] UtilityBinaries = ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nv-fabricmanager"];
    public static readonly string[] ComputeBinaries = ["nvidia-cuda-mps-control", "nvidia-cuda-mps-server"];

    /// <summary>Control nodes other than nvidiactl (always present) and the capabilities that bring them.</summary>
    public static readonly (string Node, DriverCapability Capabilities)[] ControlNodes =
    [
        ("/dev/nvidia-uvm", DriverCapability.Compute | DriverCapability.Video),
        ("/dev/nvidia-uvm-tools", DriverCapability.Compute | DriverCapability.Video),
        ("/dev/nvidia-modeset", DriverCapability.Display),
    ];

    /// <summary>The capabilities whose library lists a request brings: video brings compute's, display graphics'.</summary>
    public static DriverCapability ForLibraries(DriverCapability caps)
    {
        if ((caps & DriverCapability.Video) != 0) caps |= DriverCapability.Compute;
        if ((caps & DriverCapability.Display) != 0) caps |= DriverCapability.Graphics;
        return caps;
    }

    /// <summary>The capability a binary belongs to, or None when it is not one libnvidia-container knows.</summary>
    public static DriverCapability OfBinary(string fileName) =>
        UtilityBinaries.Contains(fileName) ? DriverCapability.Utility :
        ComputeBinaries.Contains(fileName) ? DriverCapability.Compute : DriverCapability.None;

    /// <summary>Whether a control node goes in with these capabilities (nvidiactl always does).</summary>
    public static bool WantsControlNode(string node, DriverCapability caps)
    {
        foreach (var (n, c) in ControlNodes) if (n == node) return (caps & c) != 0;
        return true;
    }

    /// <summary>The persistence daemon's and fabric manager's sockets come with utility.</summary>
    public static bool WantsIpc(string path, DriverCapability caps) =>
        (caps & DriverCapability.Utility) != 0 || !(path.EndsWith("/nvidia-persistenced/socket", StringComparison.Ordinal) ||
                                                     path.EndsWith("/nvidia-fabricmanager/socket", StringComparison.Ordinal));

    /// <summary>The capability a library file name belongs to, or None when it is not a known driver library.</summary>
    public static DriverCapability OfLibrary(string fileName)
    {
        foreach (var (cap, prefixes) in Libraries)
            foreach (var p in prefixes)
                if (fileName.StartsWith(p, StringComparison.Ordinal)) return cap;
        return DriverCapability.None;
    }

    public static string Name(DriverCapability c) => c switch
    {
        DriverCapability.Compute => "compute", DriverCapability.Compat32 => "compat32", DriverCapability.Graphics => "graphics",
        DriverCapability.Utility => "utility", DriverCapability.Video => "video", DriverCapability.Display => "display",
        DriverCapability.Ngx => "ngx", _ => "",
    };
}

namespace Gantry.Simulation;

/// <summary>One library of the simulated driver. Soname null means "same as the file name" (internal libs).</summary>
internal sealed record SimulatedLibrary(string Stem, string? SonameSuffix, string Group, string SubDir = "", bool DevLink = false)
{
    public string FileName(string version) => $"{Stem}.so.{version}";
    public string Soname(string version) => SonameSuffix is null ? FileName(version) : $"{Stem}.so.{SonameSuffix}";
}

// What a real driver installs, reduced to names and SONAMEs: enough that every discovery path
// (ld.so.cache, SONAME links, .so links, vdpau subdir, graphics configs) meets something real.
internal static class DriverFileSet
{
    public static readonly SimulatedLibrary[] Libraries =
    [
        new("libnvidia-ml", "1", "utility", DevLink: true),
        new("libnvidia-cfg", "1", "utility"),
        new("libcuda", "1", "compute", DevLink: true),
        new("libcudadebugger", "1", "compute"),
        new("libnvidia-opencl", "1", "compute"),
        new("libnvidia-gpucomp", null, "compute"),
        new("libnvidia-ptxjitcompiler", "1", "compute"),
        new("libnvidia-allocator", "1", "compute"),
        new("libnvidia-pkcs11-openssl3", null, "compute"),
        new("libnvidia-nvvm", "4", "compute"),
        new("libnvidia-ngx", "1", "ngx"),
        new("libvdpau_nvidia", "1", "video", SubDir: "vdpau"),
        new("libnvidia-encode", "1", "video"),
        new("libnvidia-opticalflow", "1", "video", DevLink: true),
        new("libnvcuvid", "1", "video"),
        new("libnvidia-eglcore", null, "graphics"),
        new("libnvidia-glcore", null, "graphics"),
        new("libnvidia-tls", null, "graphics"),
        new("libnvidia-glsi", null, "graphics"),
        new("libnvidia-fbc", "1", "graphics"),
        new("libnvidia-rtcore", null, "graphics"),
        new("libnvoptix", "1", "graphics"),
        new("libGLX_nvidia", "0", "graphics"),
        new("libEGL_nvidia", "0", "graphics"),
        new("libGLESv2_nvidia", "2", "graphics"),
        new("libGLESv1_CM_nvidia", "1", "graphics"),
        new("libnvidia-glvkspirv", null, "graphics"),
        new("libnvidia-vulkan-producer", null, "graphics"),
    ];

    /// <summary>The 32-bit libraries a multilib driver install adds (compat32).</summary>
    public static readonly string[] Compat32Stems = ["libcuda", "libnvidia-ml", "libnvidia-ptxjitcompiler", "libnvidia-opencl", "libGLX_nvidia", "libEGL_nvidia"];

    public static readonly string[] Binaries =
        ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server"];

    /// <summary>Graphics config files: path under the driver root and their contents.</summary>
    public static readonly (string Path, string Content)[] GraphicsConfigs =
    [
        ("usr/share/glvnd/egl_vendor.d/10_nvidia.json", "{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\" : {\n        \"library_path\" : \"libEGL_nvidia.so.0\"\n    }\n}\n"),
        ("usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json", "{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\" : {\n        \"library_path\" : \"libnvidia-egl-gbm.so.1\"\n    }\n}\n"),
        ("usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json", "{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\" : {\n        \"library_path\" : \"libnvidia-egl-wayland.so.1\"\n    }\n}\n"),
        ("usr/share/vulkan/icd.d/nvidia_icd.json", "{\n    \"file_format_version\" : \"1.0.0\",\n    \"ICD\": {\n        \"library_path\": \"libGLX_nvidia.so.0\",\n        \"api_version\" : \"1.3.277\"\n    }\n}\n"),
        ("usr/share/vulkan/implicit_layer.d/nvidia_layers.json", "{\n    \"file_format_version\" : \"1.0.0\",\n    \"layer\": {\n        \"name\": \"VK_LAYER_NV_optimus\",\n        \"type\": \"INSTANCE\",\n        \"library_path\": \"libGLX_nvidia.so.0\"\n    }\n}\n"),
        ("etc/OpenCL/vendors/nvidia.icd", "libnvidia-opencl.so.1\n"),
        ("usr/share/nvidia/nvoptix.bin", "simulated optix data\n"),
    ];

    /// <summary>Graphics libraries that carry their own version numbers rather than the driver's.</summary>
    public static readonly (string FileName, string Soname)[] EglPlatformLibraries =
    [
        ("libnvidia-egl-gbm.so.1.1.1", "libnvidia-egl-gbm.so.1"),
        ("libnvidia-egl-wayland.so.1.1.13", "libnvidia-egl-wayland.so.1"),
    ];

    /// <summary>CUDA driver API version (NVML integer form) shipped with a driver branch.</summary>
    public static int CudaVersionFor(string driverVersion)
    {
        var major = int.TryParse(driverVersion.Split('.')[0], out var m) ? m : 550;
        return major switch
        {
            >= 580 => 13000, >= 575 => 12090, >= 570 => 12080, >= 565 => 12070, >= 560 => 12060,
            >= 555 => 12050, >= 550 => 12040, >= 545 => 12030, >= 535 => 12020, >= 530 => 12010,
            >= 525 => 12000, >= 520 => 11080, >= 515 => 11070, >= 510 => 11060, _ => 11040,
        };
    }
}

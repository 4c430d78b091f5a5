using Gantry.Common;
using Gantry.Config;
using static Gantry.Tests.Runtime.SpecView;

namespace Gantry.Tests.Runtime;

// NVIDIA_DRIVER_CAPABILITIES in jit-cdi mode picks the driver files by libnvidia-container's table.
public sealed class JitCapabilityTests(JitHost host) : IClassFixture<JitHost>
{
    const string Gpu0 = "NVIDIA_VISIBLE_DEVICES=0";

    static string Injected(System.Text.Json.Nodes.JsonObject spec) => $"{spec["mounts"]?.ToJsonString()} {spec["linux"]?.ToJsonString()} {spec["hooks"]?.ToJsonString()}";

    [Fact]
    public void Unset_capabilities_mean_utility_and_compute()
    {
        var spec = host.Modify(Gpu0);
        var names = MountedNames(spec);
        Assert.Contains("libcuda.so.550.54.15", names);
        Assert.Contains("libnvidia-ml.so.550.54.15", names);
        Assert.Contains("nvidia-smi", names);
        Assert.Contains("nvidia-cuda-mps-control", names);
        Assert.Contains("socket", names); // nvidia-persistenced
        Assert.DoesNotContain("libGLX_nvidia.so.550.54.15", names);
        Assert.DoesNotContain("libvdpau_nvidia.so.550.54.15", names);
        Assert.DoesNotContain("nvidia_icd.json", names);
        Assert.Contains("nvidia.icd", names); // OpenCL comes with compute
        Assert.Equal(["/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/nvidiactl"], SpecView.Devices(spec).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(SpecView.Hooks(spec), h => h.StartsWith("update-application-profile", StringComparison.Ordinal));
        Assert.Contains(SpecView.Hooks(spec), h => h.StartsWith("enable-cuda-compat", StringComparison.Ordinal));
        Assert.Equal(Injected(spec), Injected(host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=")));
        Assert.Equal(Injected(spec), Injected(host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=compute,utility")));
    }

    [Fact]
    public void Utility_alone_brings_nvml_and_the_tools_but_no_cuda()
    {
        var spec = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=utility");
        var names = MountedNames(spec);
        Assert.Contains("libnvidia-ml.so.550.54.15", names);
        Assert.Contains("libnvidia-cfg.so.550.54.15", names);
        Assert.Contains("nvidia-smi", names);
        Assert.DoesNotContain("libcuda.so.550.54.15", names);
        Assert.DoesNotContain("nvidia-cuda-mps-control", names);
        Assert.DoesNotContain("nvidia.icd", names);
        Assert.Equal(["/dev/nvidia0", "/dev/nvidiactl"], SpecView.Devices(spec).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(SpecView.Hooks(spec), h => h.StartsWith("enable-cuda-compat", StringComparison.Ordinal));
        // The symlink hook names only links of mounted libraries.
        Assert.DoesNotContain(SpecView.Hooks(spec), h => h.Contains("libcuda.so", StringComparison.Ordinal));
    }

    [Fact]
    public void Compute_alone_brings_cuda_and_uvm_but_not_nvml()
    {
        var spec = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=compute");
        var names = MountedNames(spec);
        Assert.Contains("libcuda.so.550.54.15", names);
        Assert.Contains("libnvidia-ptxjitcompiler.so.550.54.15", names);
        Assert.DoesNotContain("libnvidia-ml.so.550.54.15", names);
        Assert.DoesNotContain("nvidia-smi", names);
        Assert.DoesNotContain("socket", names);
        Assert.Contains("/dev/nvidia-uvm", SpecView.Devices(spec));
    }

    [Fact]
    public void Video_brings_the_compute_libraries_and_display_the_graphics_ones_and_modeset()
    {
        var video = MountedNames(host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=video"));
        Assert.Contains("libnvcuvid.so.550.54.15", video);
        Assert.Contains("libvdpau_nvidia.so.550.54.15", video);
        Assert.Contains("libcuda.so.550.54.15", video);
        Assert.DoesNotContain("libnvidia-ml.so.550.54.15", video);

        var display = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=display");
        Assert.Contains("libGLX_nvidia.so.550.54.15", MountedNames(display));
        Assert.Contains("/dev/nvidia-modeset", SpecView.Devices(display));
        Assert.DoesNotContain("/dev/nvidia-modeset", SpecView.Devices(host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=graphics")));
    }

    [Fact]
    public void Graphics_brings_egl_vulkan_the_dri_nodes_and_the_application_profile()
    {
        var spec = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=graphics");
        var names = MountedNames(spec);
        Assert.Contains("libEGL_nvidia.so.550.54.15", names);
        Assert.Contains("libnvidia-egl-gbm.so.1.1.1", names);
        Assert.Contains("nvidia_icd.json", names);
        Assert.Contains("10_nvidia.json", names);
        Assert.DoesNotContain("libcuda.so.550.54.15", names);
        Assert.Contains(SpecView.Devices(spec), d => d.StartsWith("/dev/dri/", StringComparison.Ordinal));
        Assert.Contains(SpecView.Hooks(spec), h => h.StartsWith("update-application-profile", StringComparison.Ordinal));
        Assert.DoesNotContain(SpecView.Devices(host.Modify(Gpu0)), d => d.StartsWith("/dev/dri/", StringComparison.Ordinal));
    }

    [Fact]
    public void All_injects_every_discovered_file_as_the_original_does()
    {
        var all = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=all");
        var everyName = host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=compute,compat32,graphics,utility,video,display,ngx");
        Assert.Equal(Injected(all), Injected(everyName));
        Assert.Contains("libnvidia-ngx.so.550.54.15", MountedNames(all));
        Assert.Contains("libnvidia-vulkan-producer.so.550.54.15", MountedNames(all));
        Assert.Equal(["/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia0", "/dev/nvidiactl"],
            SpecView.Devices(all).Where(d => !d.StartsWith("/dev/dri/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_legacy_cuda_image_without_the_variable_gets_every_capability()
    {
        var legacy = host.Modify(Gpu0, "CUDA_VERSION=12.2.0");
        Assert.Contains("libGLX_nvidia.so.550.54.15", MountedNames(legacy));
    }

    [Fact]
    public void Supported_capabilities_bound_what_all_means_and_unknown_names_fail()
    {
        var config = new ToolkitConfig { SupportedDriverCapabilities = "utility,compute" };
        Assert.DoesNotContain("libGLX_nvidia.so.550.54.15", MountedNames(host.Modify(config, Gpu0, "NVIDIA_DRIVER_CAPABILITIES=all")));
        var e = Assert.Throws<GantryException>(() => host.Modify(Gpu0, "NVIDIA_DRIVER_CAPABILITIES=compute,frobnicate"));
        Assert.StartsWith("unsupported capabilities found in 'compute,frobnicate'", e.Message);
        var notSupported = Assert.Throws<GantryException>(() =>
            host.Modify(new ToolkitConfig { SupportedDriverCapabilities = "utility,compute" }, Gpu0, "NVIDIA_DRIVER_CAPABILITIES=graphics"));
        Assert.Contains("graphics", notSupported.Message);
    }

    [Fact]
    public void None_gets_the_driver_files_of_its_capabilities_and_no_gpu()
    {
        var spec = host.Modify("NVIDIA_VISIBLE_DEVICES=none", "NVIDIA_DRIVER_CAPABILITIES=utility");
        Assert.Equal(["/dev/nvidiactl"], SpecView.Devices(spec));
        Assert.Contains("nvidia-smi", MountedNames(spec));
    }
}

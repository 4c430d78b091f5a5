using Gantry.Config;
using Gantry.Requests;
using static Gantry.Tests.Runtime.SpecView;

namespace Gantry.Tests.Runtime;

// Legacy mode's modifiers before the prestart hook (toolkit.md §1.4, "legacy: feature-gated, graphics, mode"):
// the gated families as jit-cdi injects them, and with graphics or display asked for, the DRM nodes of the
// requested GPUs, their by-path links and the graphics files. The CLI (through the hook) does the rest.
public sealed class LegacyModifierTests : IClassFixture<JitHost>
{
    const string Hook = "/usr/bin/nvidia-container-runtime-hook";
    readonly JitHost _host;

    public LegacyModifierTests(JitHost host)
    {
        _host = host;
        foreach (var n in new[] { "/dev/nvidia-fs0", "/dev/gdrdrv", "/dev/infiniband/uverbs0", "/dev/nvidia-nvswitchctl" }) host.AddNode(n);
    }

    System.Text.Json.Nodes.JsonObject Legacy(params string[] env) => _host.Modify(new ToolkitConfig(), RuntimeMode.Legacy, env);

    string Uuid(int gpu) => File.ReadAllLines(Directory.GetFiles(Path.Combine(_host.Root, "proc/driver/nvidia/gpus"), "information", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal).ElementAt(gpu)).First(l => l.StartsWith("GPU UUID:", StringComparison.Ordinal)).Split(':', 2)[1].Trim();

    [Fact]
    public void Graphics_brings_the_drm_nodes_of_the_requested_gpu_its_by_path_links_and_the_graphics_files()
    {
        var spec = Legacy("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,graphics");
        Assert.Equal(["/dev/dri/card1", "/dev/dri/renderD128"], SpecView.Devices(spec));
        var mounts = MountDestinations(spec);
        Assert.Contains("/usr/share/glvnd/egl_vendor.d/10_nvidia.json", mounts);
        Assert.Contains("/etc/vulkan/icd.d/nvidia_icd.json", mounts);
        Assert.Contains(mounts, m => m.EndsWith("/libnvidia-egl-gbm.so.1.1.1", StringComparison.Ordinal));
        // The driver's own libraries are the CLI's, not the runtime's.
        Assert.DoesNotContain(mounts, m => m.Contains("libcuda.so", StringComparison.Ordinal));
        var hooks = SpecView.Hooks(spec);
        Assert.Contains("create-symlinks --link ../card1::/dev/dri/by-path/pci-0000:07:00.0-card --link ../renderD128::/dev/dri/by-path/pci-0000:07:00.0-render", hooks);
        Assert.Contains(hooks, h => h.Contains("gbm/nvidia-drm_gbm.so", StringComparison.Ordinal));
        Assert.DoesNotContain(hooks, h => h.StartsWith("chmod", StringComparison.Ordinal) || h.StartsWith("update-ldcache", StringComparison.Ordinal));
        Assert.Equal([Hook], Prestart(spec));
    }

    [Theory]
    [InlineData("1")]   // device minor
    [InlineData("uuid")]
    [InlineData("0000:0f:00.0")] // bus location as /proc/driver/nvidia writes it
    public void A_gpu_is_selected_by_minor_uuid_or_bus_location(string id)
    {
        var spec = Legacy("NVIDIA_VISIBLE_DEVICES=" + (id == "uuid" ? Uuid(1) : id), "NVIDIA_DRIVER_CAPABILITIES=display");
        Assert.Equal(["/dev/dri/card2", "/dev/dri/renderD129"], SpecView.Devices(spec));
    }

    [Fact]
    public void All_gpus_bring_all_drm_nodes_and_none_brings_the_files_without_nodes()
    {
        Assert.Equal(["/dev/dri/card1", "/dev/dri/card2", "/dev/dri/renderD128", "/dev/dri/renderD129"],
            SpecView.Devices(Legacy("NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=all")));
        var none = Legacy("NVIDIA_VISIBLE_DEVICES=none", "NVIDIA_DRIVER_CAPABILITIES=graphics");
        Assert.Empty(SpecView.Devices(none));
        Assert.Contains("/etc/vulkan/icd.d/nvidia_icd.json", MountDestinations(none));
    }

    [Theory]
    [InlineData("NVIDIA_DRIVER_CAPABILITIES=compute,utility")]
    [InlineData("NVIDIA_DRIVER_CAPABILITIES= graphics")] // read raw, as the original does: " graphics" is not graphics
    [InlineData("CUDA_VERSION=12.4.0")]                  // no default: a legacy image's "all" is the hook's, not this modifier's
    public void Without_graphics_or_display_nothing_but_the_hook_is_added(string env)
    {
        var spec = Legacy("NVIDIA_VISIBLE_DEVICES=0", env);
        Assert.Empty(SpecView.Devices(spec));
        Assert.Empty(MountDestinations(spec));
        Assert.Empty(SpecView.Hooks(spec));
        Assert.Equal([Hook], Prestart(spec));
    }

    [Fact]
    public void A_container_without_gpus_gets_only_the_hook_whatever_it_asks_for()
    {
        var spec = Legacy("NVIDIA_DRIVER_CAPABILITIES=graphics", "NVIDIA_GDS=enabled");
        Assert.Empty(SpecView.Devices(spec));
        Assert.Empty(MountDestinations(spec));
        Assert.Equal([Hook], Prestart(spec));
    }

    [Fact]
    public void Gated_families_are_injected_and_imex_channels_left_to_the_cli()
    {
        var spec = Legacy("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_GDS=enabled", "NVIDIA_GDRCOPY=enabled", "NVIDIA_MOFED=enabled",
            "NVIDIA_NVSWITCH=enabled", "NVIDIA_IMEX_CHANNELS=0");
        Assert.Equal(["/dev/gdrdrv", "/dev/infiniband/uverbs0", "/dev/nvidia-fs0", "/dev/nvidia-nvswitchctl"], SpecView.Devices(spec).Order(StringComparer.Ordinal));
        Assert.Equal([Hook], Prestart(spec));
        Assert.Empty(SpecView.Devices(Legacy("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_GDS=true")));
    }

    [Fact]
    public void Gated_and_graphics_edits_come_together_before_the_hook()
    {
        var spec = Legacy("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=graphics", "NVIDIA_GDRCOPY=enabled");
        Assert.Equal(["/dev/gdrdrv", "/dev/dri/card1", "/dev/dri/renderD128"], SpecView.Devices(spec));
    }

    [Fact]
    public void A_gated_family_without_nodes_fails_the_container_as_in_jit_cdi()
    {
        using var bare = new JitHost();
        var e = Assert.Throws<Gantry.Common.GantryException>(() => bare.Modify(new ToolkitConfig(), RuntimeMode.Legacy, "NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MOFED=enabled"));
        Assert.StartsWith("NVIDIA_MOFED=enabled, but no mofed device nodes", e.Message);
    }
}

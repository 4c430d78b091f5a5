using Gantry.Common;
using Gantry.Config;
using static Gantry.Tests.Runtime.SpecView;

namespace Gantry.Tests.Runtime;

// jit-cdi adds the gated families (NVIDIA_GDS, NVIDIA_MOFED, NVIDIA_GDRCOPY, NVIDIA_NVSWITCH = "enabled") and
// IMEX channels (NVIDIA_IMEX_CHANNELS) beside the GPUs, from the device root alone.
public sealed class JitGatedDeviceTests : IClassFixture<JitHost>
{
    const string Gpu0 = "NVIDIA_VISIBLE_DEVICES=0";
    readonly JitHost _host;

    public JitGatedDeviceTests(JitHost host)
    {
        _host = host;
        foreach (var n in new[] { "/dev/nvidia-fs0", "/dev/nvidia-fs1", "/dev/infiniband/uverbs0", "/dev/infiniband/rdma_cm", "/dev/gdrdrv",
                     "/dev/nvidia-nvswitchctl", "/dev/nvidia-nvswitch0", "/dev/nvidia-nvswitch1" })
            host.AddNode(n);
        File.WriteAllText(Path.Combine(host.Root, "etc/cufile.json"), "{}");
        Directory.CreateDirectory(Path.Combine(host.Root, "run/udev"));
    }

    static List<string> Gated(System.Text.Json.Nodes.JsonObject spec) =>
        SpecView.Devices(spec).Where(d => !d.StartsWith("/dev/nvidia", StringComparison.Ordinal) || d.StartsWith("/dev/nvidia-fs", StringComparison.Ordinal)
                                 || d.StartsWith("/dev/nvidia-nvswitch", StringComparison.Ordinal) || d.StartsWith("/dev/nvidia-caps-imex", StringComparison.Ordinal))
            .Where(d => !d.StartsWith("/dev/dri", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Each_family_brings_its_device_nodes_when_enabled()
    {
        Assert.Equal(["/dev/nvidia-fs0", "/dev/nvidia-fs1"], Gated(_host.Modify(Gpu0, "NVIDIA_GDS=enabled")));
        Assert.Equal(["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0"], Gated(_host.Modify(Gpu0, "NVIDIA_MOFED=enabled")));
        Assert.Equal(["/dev/gdrdrv"], Gated(_host.Modify(Gpu0, "NVIDIA_GDRCOPY=enabled")));
        Assert.Equal(["/dev/nvidia-nvswitch0", "/dev/nvidia-nvswitch1", "/dev/nvidia-nvswitchctl"], Gated(_host.Modify(Gpu0, "NVIDIA_NVSWITCH=enabled")));
        Assert.Equal(5, Gated(_host.Modify(Gpu0, "NVIDIA_GDS=enabled", "NVIDIA_MOFED=enabled", "NVIDIA_GDRCOPY=enabled")).Count);
    }

    [Fact]
    public void Gds_also_mounts_udev_and_cufile_json()
    {
        var mounts = MountDestinations(_host.Modify(Gpu0, "NVIDIA_GDS=enabled"));
        Assert.Contains("/run/udev", mounts);
        Assert.Contains("/etc/cufile.json", mounts);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("ENABLED")]
    [InlineData("1")]
    public void Only_the_literal_value_enabled_counts(string value)
    {
        Assert.Empty(Gated(_host.Modify(Gpu0, "NVIDIA_GDS=" + value)));
    }

    [Fact]
    public void Gated_families_need_a_gpu_container()
    {
        Assert.Empty(SpecView.Devices(_host.Modify("NVIDIA_GDS=enabled")));
    }

    [Fact]
    public void Imex_channels_are_injected_by_number()
    {
        Assert.Equal(["/dev/nvidia-caps-imex-channels/channel0", "/dev/nvidia-caps-imex-channels/channel1"],
            Gated(_host.Modify(Gpu0, "NVIDIA_IMEX_CHANNELS=0,channel1")));
        Assert.Empty(Gated(_host.Modify(Gpu0, "NVIDIA_IMEX_CHANNELS=all"))); // "all" in env form is ignored
        var config = new ToolkitConfig();
        config.Features.IgnoreImexChannelRequests = true;
        Assert.Empty(Gated(_host.Modify(config, Gpu0, "NVIDIA_IMEX_CHANNELS=0")));
    }

    [Theory]
    [InlineData("NVIDIA_IMEX_CHANNELS=7", "IMEX channel 7 requested, but")]
    [InlineData("NVIDIA_IMEX_CHANNELS=x1", "invalid IMEX channel 'x1'")]
    [InlineData("NVIDIA_IMEX_CHANNELS=1048576", "invalid IMEX channel '1048576'")]
    public void Bad_or_missing_imex_channels_fail(string env, string message)
    {
        var e = Assert.Throws<GantryException>(() => _host.Modify(Gpu0, env));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void An_enabled_family_without_nodes_on_the_host_fails_with_what_is_missing()
    {
        using var bare = new JitHost();
        var e = Assert.Throws<GantryException>(() => bare.Modify(Gpu0, "NVIDIA_GDRCOPY=enabled"));
        Assert.StartsWith("NVIDIA_GDRCOPY=enabled, but no gdrcopy device nodes (/dev/gdrdrv) exist under", e.Message);
    }
}

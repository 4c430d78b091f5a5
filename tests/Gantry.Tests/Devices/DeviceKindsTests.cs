using Gantry.Devices;
using Gantry.Requests;

namespace Gantry.Tests.Devices;

public sealed class DeviceKindsTests
{
    static ContainerFacts Facts(string[] env, (string, string)[]? mounts = null, bool privileged = false) =>
        new(env, mounts ?? [], new Dictionary<string, string>(), privileged);

    static List<string> Requested(ContainerFacts facts, RequestOptions? options = null) =>
        ContainerDevices.Resolve(facts, options ?? new RequestOptions()).Others.Select(r => r.JitName).ToList();

    [Fact]
    public void Every_kind_has_its_own_name_and_is_found_by_it()
    {
        Assert.Equal(DeviceKinds.All.Count, DeviceKinds.All.Select(k => k.Name).Distinct().Count());
        foreach (var kind in DeviceKinds.All) Assert.Same(kind, DeviceKinds.Find(kind.Name));
        Assert.Null(DeviceKinds.Find("gpu"));
    }

    [Fact]
    public void A_gated_family_is_asked_for_only_by_the_literal_value_enabled()
    {
        Assert.Equal(["runtime.nvidia.com/gds=all", "runtime.nvidia.com/nvswitch=all"],
            Requested(Facts(["NVIDIA_GDS=enabled", "NVIDIA_MOFED=true", "NVIDIA_GDRCOPY=", "NVIDIA_NVSWITCH=enabled"])));
    }

    [Fact]
    public void Typed_requests_come_in_registry_order_whatever_the_order_of_the_variables()
    {
        Assert.Equal(["runtime.nvidia.com/imex-channel=4,2", "runtime.nvidia.com/gdrcopy=all"],
            Requested(Facts(["NVIDIA_GDRCOPY=enabled", "NVIDIA_IMEX_CHANNELS=4,2,4"])));
    }

    [Fact]
    public void A_volume_mount_of_another_kind_is_not_a_gpu_request()
    {
        (string, string)[] mounts = [("/dev/null", "/var/run/nvidia-container-devices/imex/7")];
        var devices = ContainerDevices.Resolve(Facts([], mounts), new RequestOptions { AcceptVolumeMounts = true });
        Assert.False(devices.Gpus.Devices.IsRequested);
        Assert.Equal(["7"], Assert.Single(devices.Others).Ids);
    }

    [Fact]
    public void Unprivileged_imex_requests_from_the_environment_follow_the_config()
    {
        var strict = new RequestOptions { AcceptEnvvarWhenUnprivileged = false };
        Assert.Empty(Requested(Facts(["NVIDIA_IMEX_CHANNELS=1"]), strict));
        Assert.Equal(["runtime.nvidia.com/imex-channel=1"], Requested(Facts(["NVIDIA_IMEX_CHANNELS=1"], privileged: true), strict));
    }

    [Theory]
    [InlineData("0", true, 0u)]
    [InlineData("1048575", true, 1048575u)]
    [InlineData("1048576", false, 0u)]
    [InlineData("-1", false, 0u)]
    [InlineData("+1", false, 0u)]
    [InlineData(" 1", false, 0u)]
    [InlineData("channel1", false, 0u)]
    public void An_imex_channel_number_is_plain_digits_below_two_to_the_twenty(string text, bool valid, uint expected)
    {
        Assert.Equal(valid, ImexChannelKind.TryParseChannel(text, out var channel));
        if (valid) Assert.Equal(expected, channel);
    }
}

using Gantry.Devices;
using Gantry.Requests;

namespace Gantry.Tests.Requests;

public sealed class RequestResolverTests
{
    static ContainerFacts Facts(string[] env, (string, string)[]? mounts = null, Dictionary<string, string>? annotations = null, bool privileged = false) =>
        new(env, mounts ?? [], annotations ?? new Dictionary<string, string>(), privileged);

    // Through Devices/ContainerDevices, which hands RequestResolver the volume mounts that name GPUs; annotations count
    // as in cdi mode.
    static ContainerRequest Gpus(ContainerFacts c, RequestOptions? o = null) => ContainerDevices.Resolve(c, o ?? new RequestOptions()).Gpus.For(cdiMode: true);

    static string Resolve(ContainerFacts c, RequestOptions? o = null) => Gpus(c, o).Devices.ToString();

    static IReadOnlyList<string> Imex(ContainerFacts c, RequestOptions o) =>
        ContainerDevices.Resolve(c, o).Others.FirstOrDefault(r => r.Kind == DeviceKinds.ImexChannel)?.Ids ?? [];

    [Theory]
    [InlineData(null, "void")]
    [InlineData("", "void")]
    [InlineData("void", "void")]
    [InlineData("none", "none")]
    [InlineData("all", "all")]
    [InlineData("0,all", "all")]
    [InlineData("void,none", "none")]
    [InlineData(" 0 , ,1,0", "0,1")]
    [InlineData("GPU-abc,MIG-def,0:1", "GPU-abc,MIG-def,0:1")]
    [InlineData("nvidia.com/gpu=0", "nvidia.com/gpu=0")]
    public void Visible_devices_values_mean_what_they_mean_in_the_original(string? value, string expected) =>
        Assert.Equal(expected, VisibleDevices.Parse(value).ToString());

    [Fact]
    public void A_legacy_cuda_image_without_the_variable_gets_all_gpus()
    {
        Assert.Equal("all", Resolve(Facts(["CUDA_VERSION=11.0"])));
        Assert.Equal("void", Resolve(Facts(["CUDA_VERSION=11.0", "NVIDIA_REQUIRE_CUDA=cuda>=11.0"])));
        Assert.Equal("void", Resolve(Facts(["CUDA_VERSION=11.0", "NVIDIA_VISIBLE_DEVICES=void"])));
    }

    [Fact]
    public void The_last_definition_of_a_variable_wins() =>
        Assert.Equal("1", Resolve(Facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_VISIBLE_DEVICES=1"])));

    [Fact]
    public void Swarm_variables_replace_nvidia_visible_devices_in_config_order()
    {
        var o = new RequestOptions { SwarmResourceVariables = ["DOCKER_RESOURCE_GPU", "OTHER"] };
        Assert.Equal("2,3", Resolve(Facts(["NVIDIA_VISIBLE_DEVICES=0", "OTHER=3", "DOCKER_RESOURCE_GPU=2"]), o));
        Assert.Equal("0", Resolve(Facts(["NVIDIA_VISIBLE_DEVICES=0"]), o));
    }

    [Fact]
    public void Unprivileged_env_requests_are_ignored_with_a_warning_when_config_says_so()
    {
        var o = new RequestOptions { AcceptEnvvarWhenUnprivileged = false };
        var r = Gpus(Facts(["NVIDIA_VISIBLE_DEVICES=0"]), o);
        Assert.False(r.Devices.IsRequested);
        Assert.Equal(["Ignoring devices requested by environment variable(s) in unprivileged container: [NVIDIA_VISIBLE_DEVICES]"], r.Warnings);
        Assert.Equal("0", Resolve(Facts(["NVIDIA_VISIBLE_DEVICES=0"], privileged: true), o));
    }

    [Fact]
    public void Volume_mounts_come_before_env_and_only_when_accepted()
    {
        (string, string)[] mounts =
        [
            ("/dev/null", "/var/run/nvidia-container-devices/1"), ("/dev/null", "/var/run/nvidia-container-devices/cdi/nvidia.com/gpu/2"),
            ("/dev/null", "/var/run/nvidia-container-devices/imex/5"), ("/tmp/x", "/var/run/nvidia-container-devices/3"),
            ("/dev//null", "/var/run/nvidia-container-devices/1/"),
        ];
        var c = Facts(["NVIDIA_VISIBLE_DEVICES=0"], mounts);
        Assert.Equal("0", Resolve(c));
        var o = new RequestOptions { AcceptVolumeMounts = true };
        Assert.Equal("1,nvidia.com/gpu=2", Resolve(c, o));
        Assert.Equal(["5"], Imex(c, o));
    }

    [Fact]
    public void Annotations_win_when_their_prefixes_are_configured()
    {
        var c = Facts(["NVIDIA_VISIBLE_DEVICES=0"], annotations: new() { ["cdi.k8s.io/b"] = "nvidia.com/gpu=1", ["cdi.k8s.io/a"] = "nvidia.com/gpu=0,nvidia.com/gpu=2", ["other"] = "x" });
        Assert.Equal("0", Resolve(c));
        Assert.Equal("nvidia.com/gpu=0,nvidia.com/gpu=2,nvidia.com/gpu=1", Resolve(c, new RequestOptions { AnnotationPrefixes = ["cdi.k8s.io/"] }));
    }

    [Fact]
    public void Imex_channels_in_env_form_ignore_all_and_can_be_switched_off()
    {
        Assert.Equal(["1", "2"], Imex(Facts(["NVIDIA_IMEX_CHANNELS=1,2"]), new RequestOptions()));
        Assert.Empty(Imex(Facts(["NVIDIA_IMEX_CHANNELS=all"]), new RequestOptions()));
        Assert.Empty(Imex(Facts(["NVIDIA_IMEX_CHANNELS=1"]), new RequestOptions { IgnoreImexChannelRequests = true }));
    }
}

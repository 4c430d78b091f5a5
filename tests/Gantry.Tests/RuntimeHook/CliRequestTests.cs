using Gantry.Common;
using Gantry.Config;
using Gantry.Requests;
using Gantry.RuntimeHook;

namespace Gantry.Tests.RuntimeHook;

public sealed class CliRequestTests
{
    static ContainerFacts Facts(bool privileged, params string[] env) => new(env, [], new Dictionary<string, string>(), privileged);
    static ToolkitConfig Config(string toml = "") => ToolkitConfigFile.Parse(toml, "test.toml");

    [Theory]
    [InlineData()]
    [InlineData("NVIDIA_VISIBLE_DEVICES=")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=void")]
    [InlineData("NVIDIA_DRIVER_CAPABILITIES=all")]
    [InlineData("CUDA_VERSION=12.0", "NVIDIA_REQUIRE_CUDA=cuda>=12.0")]
    public void A_container_without_a_device_request_is_not_a_gpu_container(params string[] env) =>
        Assert.Null(CliRequest.From(Facts(false, env), Config()));

    [Fact]
    public void Unprivileged_env_requests_are_dropped_with_a_warning_when_config_refuses_them()
    {
        var config = Config("accept-nvidia-visible-devices-envvar-when-unprivileged = false\n");
        Assert.Null(CliRequest.From(Facts(false, "NVIDIA_VISIBLE_DEVICES=0"), config));
        Assert.Equal("0", CliRequest.From(Facts(true, "NVIDIA_VISIBLE_DEVICES=0"), config)!.Devices.ToString());
    }

    [Theory]
    [InlineData("NVIDIA_MIG_CONFIG_DEVICES=all", "cannot set MIG_CONFIG_DEVICES in non privileged container")]
    [InlineData("NVIDIA_MIG_MONITOR_DEVICES=all", "cannot set MIG_MONITOR_DEVICES in non privileged container")]
    public void Mig_management_needs_a_privileged_container(string env, string message)
    {
        var e = Assert.Throws<GantryException>(() => CliRequest.From(Facts(false, "NVIDIA_VISIBLE_DEVICES=0", env), Config()));
        Assert.Equal(message, e.Message);
        Assert.NotNull(CliRequest.From(Facts(false, "NVIDIA_VISIBLE_DEVICES=0", env.Split('=')[0] + "="), Config()));
    }

    [Fact]
    public void An_unsupported_capability_is_an_error_naming_it_and_the_allowed_ones()
    {
        var e = Assert.Throws<UnsupportedCapabilityException>(() =>
            CliRequest.From(Facts(false, "NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,graphics,foo"),
                Config("supported-driver-capabilities = \"compute,utility\"\n")));
        Assert.Equal("unsupported capabilities found in 'compute,graphics,foo': foo,graphics (allowed 'compute,utility')", e.Message);
    }

    [Fact]
    public void An_invalid_supported_capabilities_value_in_config_is_an_error()
    {
        var e = Assert.Throws<UnsupportedCapabilityException>(() =>
            CliRequest.From(Facts(false, "NVIDIA_VISIBLE_DEVICES=0"), Config("supported-driver-capabilities = \"compute,gpu\"\n")));
        Assert.Contains("invalid value for config option 'supported-driver-capabilities': compute,gpu", e.Message);
    }

    [Theory]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0", true)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0", false)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0,nvidia.com/gpu=1", true)]
    [InlineData("mode = \"legacy\"", "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0", true)]
    [InlineData("mode = \"cdi\"", "NVIDIA_VISIBLE_DEVICES=0", false)]
    [InlineData("mode = \"jit-cdi\"", "NVIDIA_VISIBLE_DEVICES=0", false)]
    [InlineData("mode = \"csv\"", "NVIDIA_VISIBLE_DEVICES=0", false)]
    [InlineData("mode = \"cdi\"\n[nvidia-container-runtime-hook]\nskip-mode-detection = true", "NVIDIA_VISIBLE_DEVICES=0", true)]
    public void The_hook_serves_only_legacy_mode(string runtimeSection, string env, bool allowed)
    {
        var config = Config("[nvidia-container-runtime]\n" + runtimeSection + "\n");
        var devices = CliRequest.From(Facts(false, env), config)!.Devices;
        var e = Record.Exception(() => CliRequest.AssertLegacyMode(config, devices));
        if (allowed) Assert.Null(e);
        else Assert.StartsWith("invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported", e?.Message);
    }

    [Theory]
    [InlineData("all", "compat32,compute,display,graphics,ngx,utility,video")]
    [InlineData("utility,compute", "compute,utility")]
    [InlineData(" video , ,ngx", "ngx,video")]
    [InlineData("", "")]
    public void Supported_capabilities_parse_as_a_set(string value, string expected) =>
        Assert.Equal(expected, DriverCapabilityRequest.Join(DriverCapabilityRequest.ParseSupported(value)));
}

using Gantry.Config;
using Gantry.Requests;
using Gantry.RuntimeHook;

namespace Gantry.Tests.RuntimeHook;

// The nvidia-container-cli command line the hook builds, case by case from toolkit.md §1.5 and §3: config.toml
// text and the container's env in, the exact argv out. "/sbin/ldconfig.real" is taken as absent on the host.
public sealed class ConfigureArgvTests
{
    const string Cli = "/usr/bin/nvidia-container-cli";
    const string Tail = "--pid=4242 /bundle/rootfs";
    const string Base = Cli + " --load-kmods configure --cuda-compat-mode=ldconfig --ldconfig=@/sbin/ldconfig";

    internal static string Argv(string toml, string env, bool privileged = false, bool debug = false, Func<string, bool>? exists = null)
    {
        var config = ToolkitConfigFile.Parse(toml, "test.toml");
        // The default depends on this host's /sbin/ldconfig.real; the cases fix it.
        if (!toml.Contains("ldconfig =", StringComparison.Ordinal)) config.NvidiaContainerCli.Ldconfig = "@/sbin/ldconfig";
        var facts = new ContainerFacts(env.Split(';', StringSplitOptions.RemoveEmptyEntries), [], new Dictionary<string, string>(), privileged);
        var request = CliRequest.From(facts, config) ?? throw new InvalidOperationException("not a GPU container");
        return string.Join(" ", ConfigureArgv.Build(config, Cli, request, 4242, "/bundle/rootfs", debug, exists ?? (_ => false)));
    }

    [Theory]
    // Devices: all, a list (as written, duplicates dropped), none (driver only: no --device).
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=all", Base + " --device=all --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0,1", Base + " --device=0,1 --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=GPU-8e1f,1:0,GPU-8e1f", Base + " --device=GPU-8e1f,1:0 --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=none", Base + " --compute --utility " + Tail)]
    // Capabilities: one flag each, sorted by name; "all" is every supported one; empty means utility,compute.
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=all",
        Base + " --device=0 --compat32 --compute --display --graphics --ngx --utility --video " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=video, compute", Base + " --device=0 --compute --video " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=", Base + " --device=0 --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=utility", Base + " --device=0 --utility " + Tail)]
    [InlineData("supported-driver-capabilities = \"compute,utility\"\n", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=all",
        Base + " --device=0 --compute --utility " + Tail)]
    [InlineData("supported-driver-capabilities = \"utility\"\n", "NVIDIA_VISIBLE_DEVICES=0", Base + " --device=0 --utility " + Tail)]
    [InlineData("supported-driver-capabilities = \"all\"\n", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_DRIVER_CAPABILITIES=ngx,graphics",
        Base + " --device=0 --graphics --ngx " + Tail)]
    // Requirements: one --require per NVIDIA_REQUIRE_* (by name), JETPACK ones skipped; disabled by env or config.
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_REQUIRE_DRIVER=driver>=400;NVIDIA_REQUIRE_CUDA=cuda>=11.0 brand=tesla,driver>=418;NVIDIA_REQUIRE_JETPACK=csv-mounts=all",
        Base + " --device=0 --compute --utility --require=cuda>=11.0 brand=tesla,driver>=418 --require=driver>=400 " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_REQUIRE_CUDA=cuda>=11.0;NVIDIA_DISABLE_REQUIRE=true", Base + " --device=0 --compute --utility " + Tail)]
    [InlineData("disable-require = true\n", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_REQUIRE_CUDA=cuda>=11.0", Base + " --device=0 --compute --utility " + Tail)]
    // A legacy CUDA image (CUDA_VERSION, no NVIDIA_REQUIRE_CUDA): all GPUs, every supported capability, cuda>=major.minor.
    [InlineData("", "CUDA_VERSION=11.2.1",
        Base + " --device=all --compat32 --compute --display --graphics --ngx --utility --video --require=cuda>=11.2 " + Tail)]
    // MIG config/monitor (privileged containers) and IMEX channels.
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=all;NVIDIA_MIG_CONFIG_DEVICES=all;NVIDIA_MIG_MONITOR_DEVICES=all",
        Base + " --device=all --mig-config=all --mig-monitor=all --compute --utility " + Tail, true)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_IMEX_CHANNELS=0,3", Base + " --device=0 --imex-channel=0,3 --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_IMEX_CHANNELS=all", Base + " --device=0 --compute --utility " + Tail)]
    [InlineData("[features]\nignore-imex-channel-requests = true\n", "NVIDIA_VISIBLE_DEVICES=0;NVIDIA_IMEX_CHANNELS=0", Base + " --device=0 --compute --utility " + Tail)]
    // Swarm variables replace NVIDIA_VISIBLE_DEVICES when named in config and present.
    [InlineData("swarm-resource = \"DOCKER_RESOURCE_GPU\"\n", "NVIDIA_VISIBLE_DEVICES=0;DOCKER_RESOURCE_GPU=2,3", Base + " --device=2,3 --compute --utility " + Tail)]
    [InlineData("", "NVIDIA_VISIBLE_DEVICES=0;DOCKER_RESOURCE_GPU=2,3", Base + " --device=0 --compute --utility " + Tail)]
    public void Container_requests_become_configure_flags(string toml, string env, string expected, bool privileged = false) =>
        Assert.Equal(expected, Argv(toml, env, privileged));

    [Theory]
    // Every [nvidia-container-cli] global flag, in the original's order, before "configure".
    [InlineData("root = \"/run/nvidia/driver\"\ndebug = \"/var/log/nvidia-container-toolkit.log\"\nldcache = \"/etc/ld.so.cache\"\nuser = \"root:video\"\nno-pivot = true\n",
        Cli + " --root=/run/nvidia/driver --load-kmods --no-pivot --debug=/var/log/nvidia-container-toolkit.log --ldcache=/etc/ld.so.cache --user=root:video configure")]
    [InlineData("load-kmods = false\n", Cli + " configure")]
    [InlineData("root = \"/\"\n", Cli + " --root=/ --load-kmods configure")]
    [InlineData("no-cgroups = true\n", Cli + " --load-kmods configure --cuda-compat-mode=ldconfig --ldconfig=@/sbin/ldconfig --no-cgroups")]
    [InlineData("ldconfig = \"/sbin/ldconfig\"\n[features]\nallow-ldconfig-from-container = true\n",
        Cli + " --load-kmods configure --cuda-compat-mode=ldconfig --ldconfig=/sbin/ldconfig")]
    public void Cli_section_keys_become_global_flags(string cliSection, string expectedPrefix)
    {
        var argv = Argv("[nvidia-container-cli]\n" + cliSection, "NVIDIA_VISIBLE_DEVICES=0");
        Assert.StartsWith(expectedPrefix, argv);
        Assert.EndsWith(Tail, argv);
    }

    [Fact]
    public void Imex_channel_creation_can_be_disabled_by_a_feature() =>
        Assert.StartsWith(Cli + " --load-kmods --no-create-imex-channels configure",
            Argv("[features]\ndisable-imex-channel-creation = true\n", "NVIDIA_VISIBLE_DEVICES=0"));

    [Fact]
    public void The_hook_debug_flag_sends_cli_debug_output_to_stderr_instead_of_the_configured_file() =>
        Assert.StartsWith(Cli + " --load-kmods --debug=/dev/stderr configure",
            Argv("[nvidia-container-cli]\ndebug = \"/var/log/x.log\"\n", "NVIDIA_VISIBLE_DEVICES=0", debug: true));

    [Theory]
    [InlineData("ldconfig", "", " --cuda-compat-mode=ldconfig")]
    [InlineData("mount", "", " --cuda-compat-mode=mount")]
    [InlineData("disabled", "", " --cuda-compat-mode=disabled")]
    [InlineData("hook", "", " --cuda-compat-mode=disabled")]
    [InlineData("something-new", "", " --cuda-compat-mode=disabled")]
    [InlineData("something-new", "allow-cuda-compat-libs-from-container = true", "")]
    public void Legacy_cuda_compat_mode_maps_to_the_cli_flag(string mode, string feature, string expected)
    {
        var argv = Argv($"[nvidia-container-runtime.modes.legacy]\ncuda-compat-mode = \"{mode}\"\n[features]\n{feature}\n", "NVIDIA_VISIBLE_DEVICES=0");
        Assert.StartsWith($"{Cli} --load-kmods configure{expected} --ldconfig=", argv);
    }

    [Theory]
    [InlineData("@/sbin/ldconfig", true, "@/sbin/ldconfig.real")]
    [InlineData("@/sbin/ldconfig", false, "@/sbin/ldconfig")]
    [InlineData("@/sbin/ldconfig.real", false, "@/sbin/ldconfig")]
    [InlineData("@/sbin/ldconfig.real", true, "@/sbin/ldconfig.real")]
    [InlineData("/sbin/ldconfig", true, "/sbin/ldconfig")]
    public void A_host_ldconfig_is_named_as_its_real_twin_when_that_exists(string configured, bool realExists, string expected) =>
        Assert.Equal(expected, ConfigureArgv.NormalizeLdconfig(configured, p => realExists && p == "/sbin/ldconfig.real"));

    [Fact]
    public void Volume_mount_requests_are_read_when_accepted()
    {
        var config = ToolkitConfigFile.Parse("accept-nvidia-visible-devices-as-volume-mounts = true\n", "test.toml");
        var facts = new ContainerFacts(["NVIDIA_VISIBLE_DEVICES=all"], [("/dev/null", "/var/run/nvidia-container-devices/1")],
            new Dictionary<string, string>(), false);
        Assert.Equal("1", CliRequest.From(facts, config)!.Devices.ToString());
    }
}

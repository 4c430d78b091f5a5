using System.Text;
using Gantry.Common;
using Gantry.Config;
using Gantry.ContainerCli;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Requests;
using Gantry.RuntimeHook;
using Gantry.Simulation;
using Gantry.Tests.Config;
using Gantry.Tests.Runtime;
using Gantry.Tests.RuntimeHook;

namespace Gantry.Tests.Swarm;

// Issue 16, item 2: GPUs from DOCKER_RESOURCE_<KIND> (dashes and all) named in swarm-resource, before
// NVIDIA_VISIBLE_DEVICES; an id that is no GPU of this node, or a GPU kind swarm-resource does not list, is an error
// that names the kind and the id, never every GPU.
public sealed class SwarmRequestTests
{
    static ContainerFacts Facts(params string[] env) => new(env, [], new Dictionary<string, string>(), false);

    static RequestOptions Listing(params string[] vars) => new() { SwarmResourceVariables = vars };

    static ContainerRequest Gpus(ContainerFacts c, RequestOptions o) => ContainerDevices.Resolve(c, o).Gpus;

    [Fact]
    public void A_kind_with_a_dash_is_read_before_nvidia_visible_devices()
    {
        var r = Gpus(Facts("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-aaa,GPU-bbb"), Listing("DOCKER_RESOURCE_NVIDIA-GPU"));
        Assert.Equal("GPU-aaa,GPU-bbb", r.Devices.ToString());
        Assert.Equal([KeyValuePair.Create("DOCKER_RESOURCE_NVIDIA-GPU", "GPU-aaa,GPU-bbb")], r.SwarmSources);
    }

    [Fact]
    public void Every_listed_kind_counts_in_config_order_and_unlisted_ones_without_gpu_ids_are_ignored()
    {
        var r = Gpus(Facts("DOCKER_RESOURCE_FPGA=fpga0", "DOCKER_RESOURCE_B=GPU-b", "DOCKER_RESOURCE_A=GPU-a", "NVIDIA_VISIBLE_DEVICES=all"),
            Listing("DOCKER_RESOURCE_A", "DOCKER_RESOURCE_B"));
        Assert.Equal("GPU-a,GPU-b", r.Devices.ToString());
        Assert.Equal(["DOCKER_RESOURCE_A", "DOCKER_RESOURCE_B"], r.SwarmSources.Select(s => s.Key));
    }

    [Fact]
    public void Without_a_swarm_variable_nvidia_visible_devices_rules_and_there_are_no_swarm_sources()
    {
        var r = Gpus(Facts("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_FPGA=fpga0"), Listing("DOCKER_RESOURCE_NVIDIA-GPU"));
        Assert.Equal("all", r.Devices.ToString());
        Assert.Empty(r.SwarmSources);
    }

    [Fact]
    public void Gpu_ids_in_a_kind_that_swarm_resource_does_not_list_are_an_error_not_every_gpu()
    {
        var e = Assert.Throws<GantryException>(() =>
            Gpus(Facts("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-aaa"), Listing("DOCKER_RESOURCE_GPU")));
        Assert.Contains("swarm resource NVIDIA-GPU", e.Message);
        Assert.Contains("GPU-aaa", e.Message);
        Assert.Contains("DOCKER_RESOURCE_GPU", e.Message);
        Assert.Contains("--swarm-resource-kind=NVIDIA-GPU", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void An_unprivileged_container_whose_env_is_not_honoured_gets_nothing_and_no_error()
    {
        var o = Listing("DOCKER_RESOURCE_GPU") with { AcceptEnvvarWhenUnprivileged = false };
        Assert.False(Gpus(Facts("DOCKER_RESOURCE_NVIDIA-GPU=GPU-aaa"), o).Devices.IsRequested);
    }

    [Fact]
    public void The_default_config_reads_docker_resource_gpu()
    {
        Assert.Equal(["DOCKER_RESOURCE_GPU"], new ToolkitConfig().SwarmResourceVariables);
        var config = ToolkitConfigFile.Parse("swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU, DOCKER_RESOURCE_GPU\"\n", "config.toml");
        Assert.Equal(["DOCKER_RESOURCE_NVIDIA-GPU", "DOCKER_RESOURCE_GPU"], config.SwarmResourceVariables);
    }

    // The runtime (jit-cdi) against a simulated 2-GPU host.
    static string[] Uuids(JitHost host) =>
        DriverDiscovery.Discover(new HostRoots(host.Root), new DiscoveryOptions { UseNvml = false, Graphics = false }, Log.Silent).Gpus.Select(g => g.Uuid).ToArray();

    static ToolkitConfig SwarmConfig() => ToolkitConfigFile.Parse("swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"\n", "config.toml");

    [Fact]
    public void The_runtime_gives_the_task_exactly_the_gpu_swarm_named()
    {
        using var host = new JitHost();
        var uuids = Uuids(host);
        var spec = host.Modify(SwarmConfig(), "NVIDIA_VISIBLE_DEVICES=all", $"DOCKER_RESOURCE_NVIDIA-GPU={uuids[1]}");
        Assert.Equal(["/dev/nvidia1"], SpecView.Devices(spec).Where(d => d.StartsWith("/dev/nvidia") && char.IsDigit(d[^1])));
    }

    [Fact]
    public void The_runtime_refuses_an_unknown_uuid_naming_the_kind_and_the_uuid()
    {
        using var host = new JitHost();
        var e = Assert.Throws<GantryException>(() =>
            host.Modify(SwarmConfig(), "NVIDIA_VISIBLE_DEVICES=all", $"DOCKER_RESOURCE_NVIDIA-GPU={Uuids(host)[0]},GPU-00000000-0000-0000-0000-000000000000"));
        Assert.StartsWith("swarm resource NVIDIA-GPU: unknown GPU GPU-00000000-0000-0000-0000-000000000000 in DOCKER_RESOURCE_NVIDIA-GPU", e.Message);
        Assert.Contains(Uuids(host)[1], e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_runtime_refuses_a_kind_mismatch()
    {
        using var host = new JitHost();
        var e = Assert.Throws<GantryException>(() => host.Modify(new ToolkitConfig(), "NVIDIA_VISIBLE_DEVICES=all", $"DOCKER_RESOURCE_NVIDIA-GPU={Uuids(host)[0]}"));
        Assert.StartsWith("swarm resource NVIDIA-GPU:", e.Message);
    }
}

// The legacy hook: the same precedence and checks before nvidia-container-cli is exec'd.
public sealed class SwarmHookTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string[] _uuids;

    public SwarmHookTests()
    {
        SimulatedHostWriter.Write(_dir.File("host"), new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false }, Log.Silent);
        _uuids = DriverDiscovery.Discover(new HostRoots(_dir.File("host")), new DiscoveryOptions { UseNvml = false, Graphics = false }, Log.Silent).Gpus.Select(g => g.Uuid).ToArray();
        _dir.Write("config.toml", $"swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"\n[nvidia-container-cli]\nroot = \"{_dir.File("host")}\"\n[nvidia-container-runtime]\nmode = \"legacy\"\n");
        Directory.CreateDirectory(_dir.File("bin"));
    }

    public void Dispose() => _dir.Dispose();

    (int Code, RecordingHookSyscalls Os) Prestart(params string[] env)
    {
        var quoted = string.Join(",", env.Select(e => $"\"{e}\""));
        _dir.Write("bundle/config.json", $$$"""{"ociVersion":"1.0.2-dev","process":{"env":[{{{quoted}}}]},"root":{"path":"rootfs"}}""");
        var cli = Path.Combine(_dir.File("bin"), "nvidia-container-cli");
        var os = new RecordingHookSyscalls(cli);
        var procEnv = new List<KeyValuePair<string, string>> { new("PATH", "/usr/bin:/bin"), new("NVIDIA_CTK_CONFIG_FILE_PATH", _dir.File("config.toml")) };
        var state = $$"""{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":777,"bundle":"{{_dir.File("bundle")}}"}""";
        var process = new HookProcess(os, () => new MemoryStream(Encoding.UTF8.GetBytes(state)), procEnv, _dir.File("bin")) { InProcessCli = ContainerCliCommand.Run };
        return (RuntimeHookCommand.Run("nvidia-container-runtime-hook", ["prestart"], process), os);
    }

    [Fact]
    public void The_hook_passes_the_swarm_gpu_to_the_cli_instead_of_nvidia_visible_devices()
    {
        var (_, os) = Prestart("NVIDIA_VISIBLE_DEVICES=all", $"DOCKER_RESOURCE_NVIDIA-GPU={_uuids[1]}");
        Assert.Contains($"--device={_uuids[1]}", os.Executed!.Value.Argv);
    }

    [Fact]
    public void The_hook_refuses_an_unknown_uuid_and_execs_nothing()
    {
        var (code, os) = Prestart("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-00000000-0000-0000-0000-000000000000");
        Assert.Equal(1, code);
        Assert.Null(os.Executed);
    }

    [Fact]
    public void The_hook_refuses_a_kind_swarm_resource_does_not_list()
    {
        var (code, os) = Prestart("NVIDIA_VISIBLE_DEVICES=all", $"DOCKER_RESOURCE_OTHER-GPU={_uuids[0]}");
        Assert.Equal(1, code);
        Assert.Null(os.Executed);
    }
}

// cdi mode: the spec directories say what this node has, and an id Swarm gave that no spec defines is the same
// one-line error naming the kind (not the registry's generic "unresolvable CDI devices").
public sealed class SwarmCdiModeTests : IDisposable
{
    readonly TempDir _dir = new();

    public SwarmCdiModeTests()
    {
        _dir.Write("gpu-aaa", "");
        _dir.Write("cdi/nvidia.yaml", $"""
            cdiVersion: 0.5.0
            kind: nvidia.com/gpu
            devices:
            - name: GPU-aaa
              containerEdits:
                mounts:
                - hostPath: {_dir.File("gpu-aaa")}
                  containerPath: /gpu-aaa
                  options: [ro, bind]
            - name: all
              containerEdits:
                env:
                - ALL=1
            containerEdits:
              env:
              - NVIDIA_VISIBLE_DEVICES=void
            """);
    }

    public void Dispose() => _dir.Dispose();

    string Modify(params string[] env)
    {
        var config = ToolkitConfigFile.Parse("swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"\n", "config.toml");
        config.NvidiaContainerRuntime.CdiSpecDirs = [_dir.File("cdi")];
        var log = new Gantry.Runtime.RuntimeLog(LogLevel.Error, null, null, false);
        var injector = new Gantry.Runtime.CdiInjector(config, log, new Gantry.Oci.EditsApplier(new Gantry.Tests.Oci.FakeRuntimeSyscalls()), "/usr/bin/nvidia-ctk",
            (_, _, _) => throw new InvalidOperationException("cdi mode must not run discovery"));
        var json = "{\"process\":{\"env\":[" + string.Join(",", env.Select(e => $"\"{e}\"")) + "]},\"root\":{\"path\":\"rootfs\"}}";
        var spec = Gantry.Oci.OciSpec.Parse(Encoding.UTF8.GetBytes(json), "config.json", false);
        new Gantry.Runtime.SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, RuntimeMode.Cdi);
        return Encoding.UTF8.GetString(spec.Serialize());
    }

    [Fact]
    public void A_known_id_is_injected_from_the_spec()
    {
        Assert.Contains("/gpu-aaa", Modify("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-aaa"));
    }

    [Fact]
    public void An_unknown_id_names_the_kind_the_id_what_the_specs_define_and_where_they_were_read()
    {
        var e = Assert.Throws<GantryException>(() => Modify("NVIDIA_VISIBLE_DEVICES=all", "DOCKER_RESOURCE_NVIDIA-GPU=GPU-aaa,GPU-zzz"));
        Assert.StartsWith("swarm resource NVIDIA-GPU: unknown GPU GPU-zzz in DOCKER_RESOURCE_NVIDIA-GPU (this node has GPU-aaa; no CDI spec in ", e.Message);
        Assert.Contains(_dir.File("cdi"), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

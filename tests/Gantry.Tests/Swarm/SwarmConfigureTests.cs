using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.NvidiaCtk;
using Gantry.Simulation;
using Gantry.Tests.Config;

namespace Gantry.Tests.Swarm;

// Issue 16, item 1: `nvidia-ctk runtime configure --runtime=docker --swarm-resources` advertises the node's GPUs,
// makes nvidia the default runtime and sets swarm-resource to match; idempotent, the rest kept, undone exactly.
public sealed class SwarmConfigureTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string[] _uuids;
    const string Daemon = "{\n  \"log-level\": \"warn\",\n  \"node-generic-resources\": [\"FPGA=fpga0\"],\n  \"storage-driver\": \"overlay2\"\n}\n";
    const string Toml = "#swarm-resource = \"DOCKER_RESOURCE_GPU\"\n\n[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig\"\n";

    public SwarmConfigureTests()
    {
        SimulatedHostWriter.Write(_dir.File("host"), new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false }, Log.Silent);
        _uuids = DriverDiscovery.Discover(new HostRoots(_dir.File("host")), new DiscoveryOptions { UseNvml = false, Graphics = false }, Log.Silent).Gpus.Select(g => g.Uuid).ToArray();
        _dir.Write("daemon.json", Daemon);
        _dir.Write("config.toml", Toml);
    }

    public void Dispose() => _dir.Dispose();

    string[] Common(params string[] more) =>
        ["--runtime=docker", "--config", _dir.File("daemon.json"), "--toolkit-config", _dir.File("config.toml"), "--driver-root", _dir.File("host"), .. more];

    static int Ctk(params string[] args) => RuntimeConfigureCommand.Run(args, Log.Silent, TextWriter.Null);

    JsonObject DaemonJson() => (JsonObject)JsonNode.Parse(File.ReadAllText(_dir.File("daemon.json")))!;

    static List<string> Resources(JsonObject d) => ((JsonArray)d["node-generic-resources"]!).Select(n => (string)n!).ToList();

    [Fact]
    public void Configure_advertises_the_gpus_sets_the_default_and_swarm_resource()
    {
        Ctk(["configure", .. Common("--swarm-resources")]);
        var d = DaemonJson();
        Assert.Equal(["FPGA=fpga0", $"NVIDIA-GPU={_uuids[0]}", $"NVIDIA-GPU={_uuids[1]}"], Resources(d));
        Assert.Equal("nvidia", (string)d["default-runtime"]!);
        Assert.Equal("warn", (string)d["log-level"]!);
        Assert.Equal(["log-level", "node-generic-resources", "storage-driver", "runtimes", "default-runtime"], d.Select(p => p.Key));
        Assert.Contains("swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"", File.ReadAllText(_dir.File("config.toml")));
        Assert.Contains("ldconfig = \"@/sbin/ldconfig\"", File.ReadAllText(_dir.File("config.toml")));
    }

    [Fact]
    public void A_named_kind_implies_the_switch_and_a_second_run_changes_nothing()
    {
        Ctk(["configure", .. Common("--swarm-resource-kind=GPU")]);
        var daemon = File.ReadAllText(_dir.File("daemon.json"));
        var toml = File.ReadAllText(_dir.File("config.toml"));
        Assert.Contains($"\"GPU={_uuids[0]}\"", daemon);
        Assert.Contains("swarm-resource = \"DOCKER_RESOURCE_GPU\"", toml);
        var mtime = File.GetLastWriteTimeUtc(_dir.File("daemon.json"));
        Ctk(["configure", .. Common("--swarm-resource-kind=GPU")]);
        Assert.Equal(daemon, File.ReadAllText(_dir.File("daemon.json")));
        Assert.Equal(toml, File.ReadAllText(_dir.File("config.toml")));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(_dir.File("daemon.json")));
    }

    [Fact]
    public void Unconfigure_restores_both_files_exactly()
    {
        Ctk(["configure", .. Common("--swarm-resources")]);
        Ctk(["unconfigure", .. Common("--swarm-resources")]);
        Assert.Equal(Daemon, File.ReadAllText(_dir.File("daemon.json")));
        Assert.Equal(Toml, File.ReadAllText(_dir.File("config.toml")));
        Assert.False(File.Exists(_dir.File("daemon.json.gantry.bak")));
        Assert.False(File.Exists(_dir.File("config.toml.gantry.bak")));
    }

    [Fact]
    public void Unconfigure_after_other_edits_removes_only_what_configure_added()
    {
        Ctk(["configure", .. Common("--swarm-resources")]);
        var d = DaemonJson();
        d["debug"] = true;
        File.WriteAllText(_dir.File("daemon.json"), d.ToJsonString());
        Ctk(["unconfigure", .. Common("--swarm-resources")]);
        d = DaemonJson();
        Assert.Equal(["FPGA=fpga0"], Resources(d));
        Assert.Null(d["default-runtime"]);
        Assert.Null(d["runtimes"]);
        Assert.True((bool)d["debug"]!);
        Assert.DoesNotContain("swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"", File.ReadAllText(_dir.File("config.toml")));
    }

    [Fact]
    public void Gpus_already_advertised_as_another_kind_are_a_mismatch_and_nothing_is_written()
    {
        _dir.Write("daemon.json", $"{{\"node-generic-resources\": [\"GPU={_uuids[0]}\"]}}");
        var e = Assert.Throws<GantryException>(() => Ctk(["configure", .. Common("--swarm-resource-kind=NVIDIA-GPU")]));
        Assert.Contains("GPU", e.Message);
        Assert.Contains("swarm-resource", e.Message);
        Assert.Equal($"{{\"node-generic-resources\": [\"GPU={_uuids[0]}\"]}}", File.ReadAllText(_dir.File("daemon.json")));
        Assert.Equal(Toml, File.ReadAllText(_dir.File("config.toml")));
    }

    [Fact]
    public void A_host_without_gpus_or_a_bad_kind_is_refused()
    {
        Assert.Throws<GantryException>(() => Ctk(["configure", "--runtime=docker", "--config", _dir.File("daemon.json"), "--toolkit-config", _dir.File("config.toml"),
            "--driver-root", _dir.File("nothing-here"), "--swarm-resources"]));
        Assert.Throws<UsageException>(() => Ctk(["configure", .. Common("--swarm-resource-kind=A=B")]));
        Assert.Throws<UsageException>(() => Ctk(["configure", "--runtime=containerd", "--config", _dir.File("c.toml"), "--swarm-resources"]));
        Assert.Equal(Daemon, File.ReadAllText(_dir.File("daemon.json")));
    }

    [Fact]
    public void Mig_devices_are_advertised_in_place_of_their_gpu()
    {
        using var dir = new TempDir();
        SimulatedHostWriter.Write(dir.File("host"), new SimulationOptions { GpuCount = 2, Mig = new Dictionary<int, int> { [0] = 2 }, RealDeviceNodes = false }, Log.Silent);
        var inv = DriverDiscovery.Discover(new HostRoots(dir.File("host")), new DiscoveryOptions { Graphics = false }, Log.Silent);
        if (!inv.Gpus[0].MigEnabled) return; // MIG facts need NVML (the stand-in); without it there is nothing to check here
        Ctk(["configure", "--runtime=docker", "--config", dir.File("daemon.json"), "--toolkit-config", dir.File("config.toml"), "--driver-root", dir.File("host"), "--swarm-resources"]);
        var text = File.ReadAllText(dir.File("daemon.json"));
        Assert.Contains("NVIDIA-GPU=MIG-", text);
        Assert.DoesNotContain($"NVIDIA-GPU={inv.Gpus[0].Uuid}", text);
        Assert.Contains($"NVIDIA-GPU={inv.Gpus[1].Uuid}", text);
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A real three-node Docker Swarm on this machine (issue 16): three private dockerd daemons (own sockets and data
/// roots, swarm ports on 127.0.0.1, no bridge, no iptables), one manager and two workers, each with its own
/// simulated 2-GPU host (a different driver version, so distinct GPU UUIDs) and its own config.toml, all set up by
/// `nvidia-ctk runtime configure --runtime=docker --swarm-resources`. The test image is imported into every node.
/// Everything is torn down in Dispose, also when a test fails.
/// </summary>
public sealed class SwarmCluster : IDisposable
{
    public const string Image = "gantry-e2e/busybox-swarm";
    internal sealed record Node(ShimHost Sim, string Dir, Docker Docker, Dictionary<string, int> GpuIndex);
    internal List<Node> Nodes { get; } = [];
    internal Docker Manager => Nodes[0].Docker;
    internal string? Failure { get; }
    readonly string _base = Path.Combine("/tmp", $"gs-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..4]}");

    public SwarmCluster()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Docker.Missing() is not null) return;
        try
        {
            for (var i = 0; i < 3; i++) Nodes.Add(StartNode(i));
            Check(Manager.Run("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:12377"));
            var token = Check(Manager.Run("swarm", "join-token", "-q", "worker")).Stdout.Trim();
            for (var i = 1; i < 3; i++)
            {
                var port = 12377 + i;
                Check(Nodes[i].Docker.Run("swarm", "join", "--token", token, "--advertise-addr", $"127.0.0.1:{port}", "--listen-addr", $"127.0.0.1:{port}", "127.0.0.1:12377"));
            }
            WaitFor(() => Manager.Run("node", "ls", "--format", "{{.Status}}").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(s => s == "Ready") == 3,
                TimeSpan.FromSeconds(30), "three ready nodes");
        }
        catch (Exception e) { Failure = e.ToString(); }
    }

    Node StartNode(int i)
    {
        var sim = new ShimHost("--driver", $"550.54.1{i + 3}");
        var dir = $"{_base}-{i}";
        Directory.CreateDirectory(dir);
        var config = sim.WriteConfig("config.toml", "runc", "");
        var wrapper = RuntimeWrapper.Write(sim.Dir["nvidia-container-runtime"], sim.Shim, new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = config });
        File.WriteAllText(Path.Combine(dir, "daemon.json"), "{\n    \"log-level\": \"warn\"\n}\n");
        Check(TestEnvironment.Run(TestEnvironment.NvidiaCtk, "runtime", "configure", "--runtime=docker", "--config=" + Path.Combine(dir, "daemon.json"),
            "--nvidia-runtime-path=" + wrapper, "--toolkit-config=" + config, "--driver-root=" + sim.HostRoot, "--swarm-resources"));
        var docker = new Docker(dir, new Dictionary<string, string>());
        try
        {
            var tar = BusyboxImage.BuildTar(sim.Dir["image"]);
            Check(ProcessRunner.Run("sh", ["-c", $"docker -H unix://{docker.Socket} import '{tar}' {Image}"]));
            var info = Check(TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", sim.HostRoot, "--json"));
            var gpus = (JsonArray)JsonNode.Parse(info.Stdout)!["gpus"]!;
            return new Node(sim, dir, docker, gpus.ToDictionary(g => (string)g!["uuid"]!, g => (int)g!["index"]!));
        }
        catch (Exception)
        {
            docker.Dispose();
            sim.Dispose();
            throw;
        }
    }

    internal static ProcessResult Check(ProcessResult r)
    {
        if (r.ExitCode != 0) throw new InvalidOperationException($"exit {r.ExitCode}: {r.Combined}");
        return r;
    }

    internal static void WaitFor(Func<bool> condition, TimeSpan limit, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"waited {limit.TotalSeconds:F0} s for {what}");
            Thread.Sleep(250);
        }
    }

    public void Dispose()
    {
        foreach (var n in Enumerable.Reverse(Nodes))
        {
            try { n.Docker.Run("swarm", "leave", "--force"); } catch (Exception) { }
            n.Docker.Dispose();
            n.Sim.Dispose();
            try { Directory.Delete(n.Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

[Collection("swarm")]
public sealed class SwarmTests(SwarmCluster cluster) : IClassFixture<SwarmCluster>
{
    const string Script = "ls /dev | grep -E '^nvidia[0-9]+$'; echo END; exec sleep 600";

    void Ready() => Assert.True(cluster.Failure is null, cluster.Failure);

    string Create(string name, int replicas, int gpus, params string[] more)
    {
        SwarmCluster.Check(cluster.Manager.Run(["service", "create", "--detach", "--name", name, "--replicas", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--generic-resource", $"NVIDIA-GPU={gpus}", "--restart-condition", "none", .. more, SwarmCluster.Image, "sh", "-c", Script]));
        return name;
    }

    void Remove(string name)
    {
        cluster.Manager.Run("service", "rm", name);
        SwarmCluster.WaitFor(() => cluster.Nodes.All(n => n.Docker.Run("ps", "-aq", "--filter", $"label=com.docker.swarm.service.name={name}").Stdout.Trim().Length == 0),
            TimeSpan.FromSeconds(30), $"the containers of {name} to go");
    }

    /// <summary>Per running task container: the node, the ids Swarm gave it, the GPU nodes it sees.</summary>
    string _lastLog = "";

    List<(int Node, string[] Given, string[] Seen)> Tasks(string service, int expected)
    {
        var result = new List<(int, string[], string[])>();
        try
        {
        SwarmCluster.WaitFor(() =>
        {
            result.Clear();
            for (var i = 0; i < cluster.Nodes.Count; i++)
            {
                var d = cluster.Nodes[i].Docker;
                foreach (var id in d.Run("ps", "-q", "--filter", $"label=com.docker.swarm.service.name={service}").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var log = d.Run("logs", id).Stdout;
                    _lastLog = log;
                    if (!log.Contains("END")) return false;
                    var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    // What Swarm gave the task, from its container's config (a shell drops variables whose names
                    // have a dash, so the task cannot print it with env).
                    var env = (JsonArray)JsonNode.Parse(d.Run("inspect", "--format", "{{json .Config.Env}}", id).Stdout)!;
                    var given = env.Select(e => (string)e!).Where(l => l.StartsWith("DOCKER_RESOURCE_NVIDIA-GPU=", StringComparison.Ordinal))
                        .SelectMany(l => l.Split('=', 2)[1].Split(',')).ToArray();
                    result.Add((i, given, lines.Where(l => l.StartsWith("nvidia", StringComparison.Ordinal)).ToArray()));
                }
            }
            return result.Count == expected;
        }, TimeSpan.FromSeconds(60), $"{expected} running tasks of {service}");
        }
        catch (TimeoutException e)
        {
            var ps = cluster.Manager.Run("service", "ps", service, "--no-trunc", "--format", "{{.Node}} {{.CurrentState}} {{.Error}}");
            throw new TimeoutException($"{e.Message}; found {result.Count}; service ps:\n{ps.Combined}", e);
        }
        return result;
    }

    void AssertEachSeesWhatItWasGiven(List<(int Node, string[] Given, string[] Seen)> tasks, int gpusPerTask)
    {
        foreach (var (node, given, seen) in tasks)
        {
            Assert.True(gpusPerTask == given.Length, _lastLog);
            var expected = given.Select(u => $"nvidia{cluster.Nodes[node].GpuIndex[u]}").OrderBy(s => s, StringComparer.Ordinal);
            Assert.Equal(expected, seen.OrderBy(s => s, StringComparer.Ordinal));
        }
        var all = tasks.SelectMany(t => t.Given).ToList();
        Assert.Equal(all.Count, all.Distinct().Count()); // no GPU given twice across the cluster
    }

    [EngineFact("dockerd")]
    public void Each_task_sees_exactly_the_gpu_swarm_gave_it_and_extra_tasks_stay_pending()
    {
        Ready();
        var s = Create("one", 4, 1);
        try { AssertEachSeesWhatItWasGiven(Tasks(s, 4), 1); }
        finally { Remove(s); }
        // 6 GPUs in the cluster: 2 of 8 tasks cannot be placed.
        s = Create("many", 8, 1);
        try
        {
            AssertEachSeesWhatItWasGiven(Tasks(s, 6), 1);
            SwarmCluster.WaitFor(() => cluster.Manager.Run("service", "ps", s, "--format", "{{.CurrentState}} {{.Error}}", "--no-trunc").Stdout
                .Split('\n').Count(l => l.StartsWith("Pending", StringComparison.Ordinal) && l.Contains("insufficient resources")) == 2, TimeSpan.FromSeconds(30), "2 pending tasks");
        }
        finally { Remove(s); }
    }

    [EngineFact("dockerd")]
    public void A_task_with_two_gpus_sees_both_and_a_drained_worker_hands_its_tasks_on()
    {
        Ready();
        var s = Create("two", 3, 2);
        try { AssertEachSeesWhatItWasGiven(Tasks(s, 3), 2); }
        finally { Remove(s); }

        s = Create("drain", 2, 1, "--constraint", "node.role==worker", "--restart-condition", "any"); // a drained node's tasks are replaced only under a restart policy
        var worker = cluster.Nodes[2].Docker.Run("info", "--format", "{{.Swarm.NodeID}}").Stdout.Trim();
        try
        {
            Tasks(s, 2);
            SwarmCluster.Check(cluster.Manager.Run("node", "update", "--availability", "drain", worker));
            SwarmCluster.WaitFor(() => cluster.Nodes[2].Docker.Run("ps", "-q", "--filter", $"label=com.docker.swarm.service.name={s}").Stdout.Trim().Length == 0,
                TimeSpan.FromSeconds(30), "the drained worker to stop its tasks");
            var tasks = Tasks(s, 2);
            Assert.All(tasks, t => Assert.Equal(1, t.Node));
            AssertEachSeesWhatItWasGiven(tasks, 1);
        }
        finally
        {
            cluster.Manager.Run("node", "update", "--availability", "active", worker);
            Remove(s);
        }
    }

    // A node whose daemon.json and config.toml disagree on the kind: configure refuses to make them so, and the
    // runtime (the node's default) refuses a task whose GPUs come in a variable swarm-resource does not list, or
    // an id that is no GPU of the node, rather than give it every GPU.
    [EngineFact("dockerd")]
    public void A_kind_mismatch_or_an_unknown_gpu_is_an_error_in_configure_and_in_the_runtime()
    {
        Ready();
        var node = cluster.Nodes[1];
        var daemon = Path.Combine(node.Dir, "daemon.json");
        var before = File.ReadAllText(daemon);
        var configure = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "runtime", "configure", "--runtime=docker", "--config=" + daemon,
            "--toolkit-config=" + node.Sim.Dir["config.toml"], "--driver-root=" + node.Sim.HostRoot, "--swarm-resource-kind=GPU");
        Assert.True(configure.ExitCode != 0, configure.Combined);
        Assert.Contains("NVIDIA-GPU", configure.Combined);
        Assert.Equal(before, File.ReadAllText(daemon));

        var uuid = node.GpuIndex.Keys.First();
        var mismatch = node.Docker.Run("run", "--rm", "-e", $"DOCKER_RESOURCE_OTHER-GPU={uuid}", "-e", "NVIDIA_VISIBLE_DEVICES=all", SwarmCluster.Image, "true");
        Assert.True(mismatch.ExitCode != 0, mismatch.Combined);
        Assert.Contains($"swarm resource OTHER-GPU: Swarm gave this task {uuid}", mismatch.Combined);
        const string Stale = "GPU-00000000-0000-0000-0000-000000000000";
        var unknown = node.Docker.Run("run", "--rm", "-e", $"DOCKER_RESOURCE_NVIDIA-GPU={Stale}", SwarmCluster.Image, "true");
        Assert.True(unknown.ExitCode != 0, unknown.Combined);
        Assert.Contains($"swarm resource NVIDIA-GPU: unknown GPU {Stale}", unknown.Combined);
    }

    [EngineFact("dockerd")]
    public void A_stack_file_with_generic_resources_deploys()
    {
        Ready();
        var file = Path.Combine(cluster.Nodes[0].Sim.Dir.Path, "stack.yml");
        File.WriteAllText(file, $$"""
            version: "3.8"
            services:
              gpu:
                image: {{SwarmCluster.Image}}
                command: ["sh", "-c", "{{Script.Replace("$", "$$")}}"]
                deploy:
                  replicas: 2
                  restart_policy: {condition: none}
                  resources:
                    reservations:
                      generic_resources:
                        - discrete_resource_spec: {kind: NVIDIA-GPU, value: 1}
                networks: [hostnet]
            networks:
              hostnet:
                external: true
                name: host
            """);
        // The host network: the default overlay network cannot be attached on daemons started with --bridge=none.
        SwarmCluster.Check(cluster.Manager.Run("stack", "deploy", "-c", file, "gs"));
        try { AssertEachSeesWhatItWasGiven(Tasks("gs_gpu", 2), 1); }
        finally
        {
            cluster.Manager.Run("stack", "rm", "gs");
            SwarmCluster.WaitFor(() => cluster.Nodes.All(n => n.Docker.Run("ps", "-aq", "--filter", "label=com.docker.swarm.service.name=gs_gpu").Stdout.Trim().Length == 0),
                TimeSpan.FromSeconds(30), "the stack's containers to go");
        }
    }
}

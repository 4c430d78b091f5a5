using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A simulated 2-GPU host and a private dockerd with both Docker GPU routes: the runtime "nvidia" (jit-cdi, what the
/// shim picks for NVIDIA_VISIBLE_DEVICES=&lt;index&gt;, through a wrapper that names its config) and --gpus (the hook on
/// dockerd's PATH). daemon.json is written here, so a test can switch live-restore and restart dockerd.
/// </summary>
public sealed class RestartingDockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox-restart";
    internal ShimHost Sim { get; } = new();
    internal Docker? Docker { get; }
    // A short directory: dockerd's socket paths must fit in sun_path.
    readonly string _dir = Path.Combine("/tmp", $"gr-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
    readonly string _runtime = "";
    bool _liveRestore = true;

    public RestartingDockerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        _runtime = RuntimeWrapper.Write(Sim.Dir["nvidia-container-runtime"], Sim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Sim.Dir["config.toml"] });
        Directory.CreateDirectory(_dir);
        WriteDaemonJson();
        var path = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH");
        Docker = new Docker(_dir, new Dictionary<string, string>(),
            new Dictionary<string, string> { ["PATH"] = path, ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Sim.Dir["config.toml"] });
        var tar = BusyboxImage.BuildTar(Sim.Dir["image"]);
        var import = Docker.Run("import", tar, Image);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    void WriteDaemonJson() => File.WriteAllText(Path.Combine(_dir, "daemon.json"),
        $"{{\"live-restore\":{(_liveRestore ? "true" : "false")},\"runtimes\":{{\"nvidia\":{{\"path\":\"{_runtime}\",\"args\":[]}}}}}}\n");

    /// <summary>Restarts dockerd (containerd stays) when its live-restore setting is not the one asked for.</summary>
    internal void UseLiveRestore(bool on)
    {
        if (_liveRestore == on) return;
        _liveRestore = on;
        WriteDaemonJson();
        Docker!.RestartDockerd();
    }

    public void Dispose()
    {
        Docker?.Run("rm", "-f", "gantry-restart-runtime", "gantry-restart-gpus");
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Sim.Dispose();
    }
}

// The engine's own fault, issue 17 §3: dockerd restarted (or crashed) while GPU containers run.
public sealed class DockerRestartTests(RestartingDockerHost host) : IClassFixture<RestartingDockerHost>
{
    const string Runtime = "gantry-restart-runtime", Gpus = "gantry-restart-gpus";
    // PID 1 that leaves on SIGTERM at once, as a service does (busybox sh ignores it otherwise and dockerd waits 10 s).
    const string Service = "trap 'exit 0' TERM; while :; do sleep 1; done";

    static string[] RuntimeRoute(int gpu) => ["--runtime=nvidia", "-e", $"NVIDIA_VISIBLE_DEVICES={gpu}"];
    static string[] GpusRoute(int gpu) => ["--gpus", $"device={gpu}"];

    /// <summary>
    /// What a container has of GPU n: the node, libcuda injected by the route (--gpus puts it in /usr/lib64 in this image), and whether the device cgroup
    /// lets it open the node. The simulated node has no driver behind it, so an allowed open fails with ENXIO ("No such
    /// device or address"); a node the cgroup denies fails with EPERM ("Operation not permitted").
    /// </summary>
    static string Probe(int gpu) =>
        $"[ -c /dev/nvidia{gpu} ] && echo node; ls /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15 /usr/lib64/libcuda.so.550.54.15 2>/dev/null | grep -q . && echo lib; " +
        $"head -c 1 /dev/nvidia{gpu} 2>&1 >/dev/null | grep -o -e 'No such device or address' -e 'not permitted'";

    const string HasGpu = "node\nlib\nNo such device or address\n";

    void AssertGpuIn(string container, int gpu)
    {
        var r = host.Docker!.Run("exec", container, "sh", "-c", Probe(gpu));
        Assert.True(r.Stdout == HasGpu, $"{container} on GPU {gpu}: exit {r.ExitCode}\n{r.Combined}");
    }

    void AssertNewContainersGetTheirGpus()
    {
        foreach (var (route, gpu) in new[] { (RuntimeRoute(1), 1), (GpusRoute(0), 0) })
        {
            var r = host.Docker!.Run(["run", "--rm", .. route, RestartingDockerHost.Image, "sh", "-c", Probe(gpu)]);
            Assert.True(r.Stdout == HasGpu, $"a new container ({string.Join(' ', route)}): exit {r.ExitCode}\n{r.Combined}");
        }
    }

    string Start(string name, string[] options)
    {
        host.Docker!.Run("rm", "-f", name);
        var r = host.Docker.Run(["run", "-d", "--name", name, .. options, RestartingDockerHost.Image, "sh", "-c", Service]);
        Assert.True(r.ExitCode == 0, r.Combined);
        return name;
    }

    /// <summary>"true 1234" while running (the init pid), "false 0" when not.</summary>
    string State(string name) => host.Docker!.Run("inspect", "-f", "{{.State.Running}} {{.State.Pid}}", name).Stdout.Trim();

    [EngineFact("dockerd")]
    public void With_live_restore_running_gpu_containers_keep_their_gpus_across_a_restart_and_a_crash_of_dockerd()
    {
        host.UseLiveRestore(true);
        // The probe tells a node the device cgroup denies from one it allows: the node bound in without the device.
        var denied = host.Docker!.Run("run", "--rm", "-v", $"{host.Sim.HostRoot}/dev/nvidia0:/dev/nvidia0", RestartingDockerHost.Image, "sh", "-c", Probe(0));
        Assert.Equal("node\nnot permitted\n", denied.Stdout);
        var runtime = Start(Runtime, RuntimeRoute(0));
        var gpus = Start(Gpus, GpusRoute(1));
        try
        {
            AssertGpuIn(runtime, 0);
            AssertGpuIn(gpus, 1);
            var before = (State(runtime), State(gpus));
            Assert.StartsWith("true ", before.Item1);
            foreach (var crash in new[] { false, true })
            {
                host.Docker!.RestartDockerd(kill: crash);
                Assert.Equal(before, (State(runtime), State(gpus))); // the same processes, never stopped
                AssertGpuIn(runtime, 0);
                AssertGpuIn(gpus, 1);
                AssertNewContainersGetTheirGpus();
            }
        }
        finally { host.Docker!.Run("rm", "-f", runtime, gpus); }
    }

    [EngineFact("dockerd")]
    public void Without_live_restore_containers_with_a_restart_policy_come_back_with_their_gpus()
    {
        host.UseLiveRestore(false);
        var runtime = Start(Runtime, ["--restart=always", .. RuntimeRoute(0)]);
        var gpus = Start(Gpus, ["--restart=always", .. GpusRoute(1)]);
        try
        {
            AssertGpuIn(runtime, 0);
            AssertGpuIn(gpus, 1);
            var before = (State(runtime), State(gpus));
            host.Docker!.RestartDockerd(); // stops both; the restart policy starts them again, through the same routes
            bool Back(string state, string old) => state.StartsWith("true ", StringComparison.Ordinal) && state != old;
            var after = (State(runtime), State(gpus));
            for (var i = 0; i < 300 && !(Back(after.Item1, before.Item1) && Back(after.Item2, before.Item2)); i++)
            {
                Thread.Sleep(100);
                after = (State(runtime), State(gpus));
            }
            Assert.StartsWith("true ", after.Item1);
            Assert.StartsWith("true ", after.Item2);
            Assert.NotEqual(before.Item1, after.Item1); // new processes: created again, so configured again
            Assert.NotEqual(before.Item2, after.Item2);
            AssertGpuIn(runtime, 0);
            AssertGpuIn(gpus, 1);
            AssertNewContainersGetTheirGpus();
        }
        finally { host.Docker!.Run("rm", "-f", runtime, gpus); }
    }
}

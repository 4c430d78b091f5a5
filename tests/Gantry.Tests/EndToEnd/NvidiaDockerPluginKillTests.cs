using System.Diagnostics;
using Xunit.Abstractions;
using System.Net.Sockets;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>Engine-fault and load tests look at the whole host (fds, /run/gantry, processes): they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostWideCollection
{
    public const string Name = "host-wide leak checks";
}

// The engine's own fault, issue 17 §3: nvidia-docker-plugin SIGKILLed (OOM killer, kill -9) and started again while
// nvidia-docker runs are in flight. Docker retries a plugin it cannot reach for about 30 s, so every run must end
// within a bound, succeed with the driver volume or fail with an error that names the cause, and the volume on disk
// must outlive the plugin.
[Collection(HostWideCollection.Name)]
public sealed class NvidiaDockerPluginKillTests(NvidiaDockerEngineHost host, ITestOutputHelper output) : IClassFixture<NvidiaDockerEngineHost>
{
    const int InFlight = 6;
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    const string Volume = "nvidia_driver_550.54.15";
    string SocketPath => host.Plugin?.SocketPath ?? Path.Combine(host.Dir, "plugins", "nvidia-docker.sock");
    string VolumeDir => Path.Combine(host.VolumesDir, "nvidia_driver", "550.54.15");

    static bool CanConnect(string socket)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { s.Connect(new UnixDomainSocketEndPoint(socket)); return true; }
        catch (SocketException) { return false; }
    }

    // Every file of the volume with its size or link target.
    List<string> VolumeFiles() => Directory.EnumerateFileSystemEntries(VolumeDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => Path.GetRelativePath(VolumeDir, p) + " " + (File.ResolveLinkTarget(p, false)?.FullName ?? (File.Exists(p) ? new FileInfo(p).Length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "dir")))
        .ToList();

    LeakSnapshot Snapshot() => LeakSnapshot.Take(
        new Dictionary<string, int> { ["dockerd"] = host.Docker!.DockerdPid, ["containerd"] = host.Docker.ContainerdPid, ["plugin"] = host.Plugin!.Pid },
        host.Docker.ContainerdPid, host.Dir, socketsNotCounted: "dockerd");

    /// <summary>Starts <see cref="InFlight"/> nvidia-docker runs, SIGKILLs the plugin after <paramref name="killAfterMs"/>, starts a new one; returns each run's outcome.</summary>
    List<(ProcessResult Result, TimeSpan Took)> KillDuringRuns(int killAfterMs)
    {
        var runs = Enumerable.Range(0, InFlight).Select(_ => Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var r = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "readlink", "/usr/local/nvidia/lib64/libcuda.so.1");
            return (r, clock.Elapsed);
        })).ToArray();
        Thread.Sleep(killAfterMs);
        host.KillPlugin();
        Assert.True(File.Exists(SocketPath), "a SIGKILLed plugin cannot remove its socket");
        Assert.False(CanConnect(SocketPath));
        Thread.Sleep(300);
        host.StartPlugin(); // replaces the stale socket
        Assert.True(CanConnect(SocketPath));
        Assert.True(Task.WaitAll(runs, Bound + TimeSpan.FromSeconds(30)), "an nvidia-docker run is stuck");
        return runs.Select(t => t.Result).ToList();
    }

    void AssertEndedCleanly(string round, List<(ProcessResult Result, TimeSpan Took)> outcomes)
    {
        output.WriteLine($"{round}: {outcomes.Count(o => o.Result.ExitCode == 0)} of {outcomes.Count} succeeded, slowest {outcomes.Max(o => o.Took).TotalSeconds:0.0} s" +
            string.Concat(outcomes.Where(o => o.Result.ExitCode != 0).Select(o => "\n  failed: " + o.Result.Stderr.Trim())));
        foreach (var (r, took) in outcomes)
        {
            Assert.True(took < Bound, $"a run took {took}: {r.Combined}");
            if (r.ExitCode == 0) Assert.Equal("libcuda.so.550.54.15", r.Stdout.Trim());
            else Assert.Matches("nvidia-docker|plugin|volume", r.Stderr); // Docker's error names the plugin or the volume
        }
    }

    [EngineFact("dockerd")]
    public void Runs_in_flight_when_the_plugin_is_killed_end_in_bounded_time_and_the_volume_and_host_stay_whole()
    {
        var first = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "true");
        Assert.True(first.ExitCode == 0, first.Combined);
        var files = VolumeFiles();
        Assert.Contains("lib64/libcuda.so.1 " + Path.Combine(VolumeDir, "lib64", "libcuda.so.550.54.15"), files);
        var before = Snapshot();

        var failed = new List<string>();
        foreach (var killAfterMs in new[] { 0, 150, 400, 900 })
        {
            var outcomes = KillDuringRuns(killAfterMs);
            AssertEndedCleanly($"plugin killed {killAfterMs} ms into {InFlight} runs", outcomes);
            failed.AddRange(outcomes.Where(o => o.Result.ExitCode != 0).Select(o => o.Result.Stderr.Trim()));
            Assert.Equal(files, VolumeFiles()); // the volume made before is whole
            Assert.Contains(Volume, host.Docker!.Run("volume", "ls", "-q").Stdout);
        }

        // The volume removed: the kill may land while the plugin builds it. Half a volume is never served, and the
        // next plugin removes what a killed build left.
        Assert.Equal(0, host.Docker!.Run("volume", "rm", Volume).ExitCode);
        AssertEndedCleanly($"volume removed, plugin killed 50 ms into {InFlight} runs", KillDuringRuns(50));
        Assert.DoesNotContain(Directory.GetDirectories(Path.GetDirectoryName(VolumeDir)!), d => Path.GetFileName(d).StartsWith('.'));
        var again = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "readlink", "/usr/local/nvidia/lib64/libcuda.so.1");
        Assert.True(again.ExitCode == 0, again.Combined);
        Assert.Equal(files, VolumeFiles());

        Assert.Equal("", host.Docker.Run("ps", "-aq").Stdout.Trim());
        // The plugin is a new process: its fds are compared with the first one's, at the same point (one run done).
        var leaks = LeakSnapshot.LeaksAfter(before, Snapshot, fdSlack: 6, TimeSpan.FromSeconds(10));
        Assert.True(leaks.Count == 0, string.Join("\n", leaks) + "\nfailed runs:\n" + string.Join("\n", failed));
    }
}

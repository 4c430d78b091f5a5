using System.Diagnostics;
using Xunit.Abstractions;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// Issue 17 §4 sized down for the suite: concurrent 1-GPU starts through every Docker route at once per route (the
// runtime in jit-cdi and in cdi mode, --gpus through the hook, nvidia-docker with its plugin), 0 failures, and nothing
// left behind: no container, no mount, no fd more in dockerd, containerd or the plugin, no file or socket in
// /run/gantry beside its caches, no gantry process. bench/load.sh runs the full 200 and times it against runc.
[Collection(HostWideCollection.Name)]
public sealed class LoadTests(NvidiaDockerEngineHost host, ITestOutputHelper output) : IClassFixture<NvidiaDockerEngineHost>
{
    // GANTRY_LOAD_STARTS raises it (bench/load.sh is the better tool for that: it also times runc).
    static int Starts => int.TryParse(Environment.GetEnvironmentVariable("GANTRY_LOAD_STARTS"), out var n) && n > 0 ? n : 16;

    // Each container checks that it has GPU 0 and libcuda (where the route puts it: the CLI of --gpus uses /usr/lib64 in an image without the Debian directory), so a start without its GPU is a failure.
    const string Check = "[ -c /dev/nvidia0 ] && ls /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15 /usr/lib64/libcuda.so.550.54.15 2>/dev/null | grep -q .";
    const string NvidiaDockerCheck = "[ -c /dev/nvidia0 ] && [ -e /usr/local/nvidia/lib64/libcuda.so.1 ]";

    LeakSnapshot Snapshot() => LeakSnapshot.Take(
        new Dictionary<string, int> { ["dockerd"] = host.Docker!.DockerdPid, ["containerd"] = host.Docker.ContainerdPid, ["plugin"] = host.Plugin!.Pid },
        host.Docker.ContainerdPid, host.Dir, socketsNotCounted: "dockerd");

    static List<string> Batch(int n, Func<ProcessResult> start)
    {
        var runs = Enumerable.Range(0, n).Select(_ => Task.Run(start)).ToArray();
        Assert.True(Task.WaitAll(runs, TimeSpan.FromMinutes(3)), "a start did not finish in 3 minutes");
        return runs.Where(r => r.Result.ExitCode != 0).Select(r => $"exit {r.Result.ExitCode}: {r.Result.Combined.Trim()}").ToList();
    }

    [EngineFact("dockerd")]
    public void Concurrent_gpu_starts_through_every_route_all_succeed_and_leave_nothing_behind()
    {
        var routes = new (string Name, Func<ProcessResult> Start)[]
        {
            ("runtime jit-cdi", () => host.Docker!.Run("run", "--rm", "--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=0", NvidiaDockerEngineHost.Plain, "sh", "-c", Check)),
            ("runtime cdi", () => host.Docker!.Run("run", "--rm", "--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0", NvidiaDockerEngineHost.Plain, "sh", "-c", Check)),
            ("--gpus", () => host.Docker!.Run("run", "--rm", "--gpus", "device=0", NvidiaDockerEngineHost.Plain, "sh", "-c", Check)),
            ("nvidia-docker", () => host.NvidiaDocker(new() { ["NV_GPU"] = "0" }, "run", "--rm", NvidiaDockerEngineHost.Cuda, "sh", "-c", NvidiaDockerCheck)),
        };
        // One of each first: fills the inventory and makes the driver volume, so the baseline holds what is meant to stay.
        foreach (var (name, start) in routes)
        {
            var r = start();
            Assert.True(r.ExitCode == 0, $"{name}: {r.Combined}");
        }
        var before = Snapshot();
        var leaks = LoadAndLeaks(routes, before);
        // A daemon's fds may grow once with concurrency (Go's idle connection pools keep what the peak opened): that
        // is a leak only if the same load again makes them grow again.
        if (leaks.Count > 0 && leaks.All(l => l.StartsWith(LeakSnapshot.FdGrowth, StringComparison.Ordinal)))
        {
            output.WriteLine("after the first round: " + string.Join("; ", leaks) + "; a second round must not add more");
            leaks = LoadAndLeaks(routes, Snapshot());
        }
        Assert.True(leaks.Count == 0, "left behind:\n" + string.Join("\n", leaks));
    }

    List<string> LoadAndLeaks((string Name, Func<ProcessResult> Start)[] routes, LeakSnapshot before)
    {
        var report = new List<string>();
        var failures = new List<string>();
        foreach (var (name, start) in routes)
        {
            var clock = Stopwatch.StartNew();
            var failed = Batch(Starts, start);
            report.Add($"{name}: {Starts} at once in {clock.ElapsedMilliseconds} ms, {failed.Count} failed");
            failures.AddRange(failed.Select(f => $"{name}: {f}"));
        }
        foreach (var line in report) output.WriteLine(line);
        Assert.True(failures.Count == 0, string.Join("\n", report) + "\n" + string.Join("\n", failures.Take(5)));
        Assert.Equal("", host.Docker!.Run("ps", "-aq").Stdout.Trim());
        return LeakSnapshot.LeaksAfter(before, Snapshot, fdSlack: 6, TimeSpan.FromSeconds(15));
    }
}

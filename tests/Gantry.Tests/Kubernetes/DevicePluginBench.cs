using System.Diagnostics;
using Gantry.Tests.Support;
using Xunit.Abstractions;

namespace Gantry.Tests.Kubernetes;

/// <summary>Runs only with GANTRY_BENCH=1 (bench/kubernetes.sh): skipped in the test suite.</summary>
internal sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (!File.Exists(DevicePluginProcess.Binary)) Skip = $"{DevicePluginProcess.Binary} is missing";
    }
}

/// <summary>
/// The device plugin on a simulated 8-GPU node against the test kubelet: start to registered, Allocate round trip
/// (median, p99), injected Xid to the ListAndWatch update, resident memory. Prints one line per figure.
/// </summary>
public sealed class DevicePluginBench(ITestOutputHelper output)
{
    static double Median(List<double> v) { v.Sort(); return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2; }
    static double P99(List<double> v) { v.Sort(); return v[Math.Min(v.Count - 1, (int)Math.Ceiling(v.Count * 0.99) - 1)]; }

    void Say(string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("GANTRY_BENCH_OUT") is { Length: > 0 } f) File.AppendAllText(f, line + "\n");
    }

    // In the test suite a smoke run (a few calls, no health loop); bench/kubernetes.sh sets GANTRY_BENCH=1 for the figures.
    static readonly bool Full = Environment.GetEnvironmentVariable("GANTRY_BENCH") == "1";

    [BenchFact]
    public async Task Eight_gpu_node()
    {
        using var sim = new TempDir();
        var root = sim["host"];
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", root, "--gpus", "8").ExitCode);
        var events = Directory.GetFiles(root, "gantry-nvml-facts.txt", SearchOption.AllDirectories).Single().Replace("facts", "events");

        var starts = new List<double>();
        for (var i = 0; i < (Full ? 7 : 1); i++)
        {
            var dir = KubeHost.KubeletDir();
            await using var k = new TestKubelet(dir);
            var watch = Stopwatch.StartNew();
            using var p = DevicePluginProcess.For(root, dir, "--device-id-strategy=index");
            k.Plugin("nvidia.com/gpu", TimeSpan.FromSeconds(30));
            starts.Add(watch.Elapsed.TotalMilliseconds);
            Directory.Delete(dir, true);
        }
        Say($"start to registered: median {Median(starts):0} ms over {starts.Count} starts (goal < 300 ms)");

        var kdir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(kdir);
        using var plugin = DevicePluginProcess.For(root, kdir, "--device-id-strategy=index");
        var conn = kubelet.Plugin("nvidia.com/gpu");
        conn.WaitFor(d => d.Count == 8);
        var random = new Random(1);
        for (var i = 0; i < (Full ? 200 : 10); i++) conn.Allocate([random.Next(8).ToString()]); // warm-up
        var lat = new List<double>();
        for (var i = 0; i < (Full ? 2000 : 50); i++)
        {
            var ids = Enumerable.Range(0, 8).OrderBy(_ => random.Next()).Take(random.Next(1, 5)).Select(x => x.ToString()).ToArray();
            var t = Stopwatch.GetTimestamp();
            conn.Allocate(ids);
            lat.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        Say($"Allocate round trip (client side, 2000 calls of 1-4 GPUs): median {Median(lat):0.00} ms, p99 {P99(lat):0.00} ms (goal p99 < 5 ms)");

        var delays = new List<double>();
        for (var i = 0; i < (Full ? 5 : 0); i++)
        {
            var gpu = i % 8;
            var t = Stopwatch.StartNew();
            File.AppendAllText(events, $"xid {gpu} 48\n");
            conn.WaitFor(d => d[gpu].Health == "Unhealthy", TimeSpan.FromSeconds(5));
            delays.Add(t.Elapsed.TotalMilliseconds);
            conn.WaitFor(d => d.All(x => x.Health == "Healthy"), TimeSpan.FromSeconds(10));
        }
        if (delays.Count > 0) Say($"injected Xid to ListAndWatch update: median {Median(delays):0} ms, max {delays.Max():0} ms (goal < 1000 ms)");

        var rss = File.ReadAllLines($"/proc/{plugin.Process.Id}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Say($"resident memory after the run: {long.Parse(rss) / 1024.0:0.0} MB (goal < 40 MB)");
        Directory.Delete(kdir, true);
    }
}

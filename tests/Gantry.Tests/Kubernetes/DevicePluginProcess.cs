using System.Diagnostics;
using System.Text;
using Gantry.Tests.Support;

namespace Gantry.Tests.Kubernetes;

/// <summary>The published nvidia-device-plugin, its stderr collected; SIGTERM and wait at dispose.</summary>
internal sealed class DevicePluginProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _log = new();

    public static string Binary => Path.Combine(TestEnvironment.BinDir, "nvidia-device-plugin");
    public string Log { get { lock (_log) return _log.ToString(); } }
    public Process Process => _process;

    public DevicePluginProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    /// <summary>A plugin for a simulated host, its sockets in the kubelet's directory, plus more flags.</summary>
    public static DevicePluginProcess For(string driverRoot, string kubeletDir, params string[] more) =>
        new(["--driver-root", driverRoot, "--kubelet-socket", Path.Combine(kubeletDir, "kubelet.sock"), .. more],
            new Dictionary<string, string> { ["DP_HEALTH_RECOVERY"] = "0.5s" });

    /// <summary>Waits for the process to end by itself, and for its output to be read to the end.</summary>
    public bool Exited(int milliseconds)
    {
        if (!_process.WaitForExit(milliseconds)) return false;
        _process.WaitForExit();
        return true;
    }

    public int Stop()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_process.WaitForExit(10_000)) _process.Kill();
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}

/// <summary>A simulated host of 4 GPUs (GPU 3 split into two 1g.5gb MIG devices) shared by the plugin tests.</summary>
public sealed class KubeHost : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Root => Dir["host"];
    internal System.Text.Json.Nodes.JsonNode? Info { get; }

    public KubeHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !File.Exists(DevicePluginProcess.Binary)) return;
        var sim = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", Root, "--gpus", "4", "--mig", "3:2");
        Assert.True(sim.ExitCode == 0, sim.Combined);
        var info = TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", Root, "--json");
        Assert.True(info.ExitCode == 0, info.Combined);
        Info = System.Text.Json.Nodes.JsonNode.Parse(info.Stdout);
    }

    internal string Uuid(int gpu) => (string)Info!["gpus"]![gpu]!["uuid"]!;
    internal string MigUuid(int gpu, int mig) => (string)Info!["gpus"]![gpu]!["migDevices"]![mig]!["uuid"]!;

    /// <summary>A fresh kubelet directory (short: socket paths must fit in sun_path).</summary>
    internal static string KubeletDir() => Path.Combine("/tmp", $"kl-{Guid.NewGuid().ToString("N")[..8]}");

    public void Dispose() => Dir.Dispose();
}

/// <summary>Needs out/nvidia-device-plugin (./build.sh).</summary>
internal sealed class PluginFactAttribute : FactAttribute
{
    public PluginFactAttribute()
    {
        if (TestEnvironment.MissingBinary() is { } why) Skip = why;
        else if (!File.Exists(DevicePluginProcess.Binary)) Skip = $"{DevicePluginProcess.Binary} is missing; run ./build.sh first";
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Gantry.Common;
using Gantry.NvidiaDockerWrapper;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

/// <summary>
/// The published nvidia-docker-plugin on a simulated host: REST on a free loopback port, the volume plugin on a
/// unix socket in a private directory. HttpClients for both; Stop sends SIGTERM and returns the exit code.
/// </summary>
internal sealed class PluginProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _log = new();
    readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string DriverRoot { get; }
    public string VolumesDir { get; }
    public string SocketDir { get; }
    public string SocketPath => Path.Combine(SocketDir, "nvidia-docker.sock");
    public Uri Rest { get; }
    public int Pid => _process.Id;
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string Binary => Path.Combine(TestEnvironment.BinDir, "nvidia-docker-plugin");

    public PluginProcess(string driverRoot, string volumesDir, string socketDir, string? frozenTime = null, IEnumerable<string>? extraArgs = null)
    {
        DriverRoot = driverRoot;
        VolumesDir = volumesDir;
        SocketDir = socketDir;
        var psi = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--driver-root", driverRoot, "-l", "127.0.0.1:0", "-d", volumesDir, "-s", socketDir }) psi.ArgumentList.Add(a);
        foreach (var a in extraArgs ?? []) psi.ArgumentList.Add(a);
        if (frozenTime is not null) psi.Environment["GANTRY_NVML_TIME"] = frozenTime;
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_log) _log.AppendLine(e.Data);
            var at = e.Data.IndexOf("Serving remote API at ", StringComparison.Ordinal);
            if (at >= 0) _listening.TrySetResult(e.Data[(at + 22)..].Trim());
        };
        _process.BeginErrorReadLine();
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("the plugin exited"));
        _process.EnableRaisingEvents = true;
        if (!_listening.Task.Wait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"the plugin did not start listening within 30 s:\n{Log}");
        Rest = new Uri($"http://{_listening.Task.Result}/");
    }

    public HttpClient RestClient() => new() { BaseAddress = Rest, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A client of the volume plugin socket; it sends Docker's Accept header unless told otherwise.</summary>
    public HttpClient PluginClient(string? accept = "application/vnd.docker.plugins.v1.2+json")
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancel);
                return new NetworkStream(s, ownsSocket: true);
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri("http://plugin/"), Timeout = TimeSpan.FromSeconds(30) };
        if (accept is not null) client.DefaultRequestHeaders.Add("Accept", accept);
        return client;
    }

    public int OpenFileDescriptors() => Directory.GetFiles($"/proc/{_process.Id}/fd").Length;

    public int Stop()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            if (!_process.WaitForExit(15_000)) _process.Kill();
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (Process.Kill), waiting until the process is gone: nothing of the plugin's own clean-up runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>A simulated 2-GPU host with a running plugin (frozen NVML clock), shared by a test class.</summary>
public sealed class PluginHostFixture : IDisposable
{
    internal TempDir Dir { get; }
    internal PluginProcess? Plugin { get; }
    public const string FrozenTime = "1700000000";

    public PluginHostFixture()
    {
        Dir = new TempDir();
        if (TestEnvironment.MissingBinary() is not null || !File.Exists(PluginProcess.Binary)) return;
        var r = TestEnvironment.Run(TestEnvironment.Gantry, ["simulate", Dir["host"], "--gpus", "2"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Plugin = new PluginProcess(Dir["host"], Dir["volumes"], Dir["sock"], FrozenTime);
    }

    public void Dispose()
    {
        Plugin?.Stop();
        Plugin?.Dispose();
        Dir.Dispose();
    }
}

/// <summary>A test of the published plugin: skipped with the reason when it has not been built.</summary>
internal sealed class PluginFactAttribute : FactAttribute
{
    public PluginFactAttribute()
    {
        if (TestEnvironment.MissingBinary() is { } why) Skip = why;
        else if (!File.Exists(PluginProcess.Binary)) Skip = $"{PluginProcess.Binary} is missing; run ./build.sh first";
    }
}

internal sealed class PluginTheoryAttribute : TheoryAttribute
{
    public PluginTheoryAttribute()
    {
        if (new PluginFactAttribute().Skip is { } why) Skip = why;
    }
}

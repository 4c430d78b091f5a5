using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// nvidia-docker's remote mode over a real ssh: NV_HOST=ssh://root@127.0.0.1:SSHPORT:PLUGINPORT through a private
/// sshd (<see cref="PrivateSshd"/>) to the plugin of a simulated 2-GPU host. The machine's ssh client does the
/// login with the key in a private ssh-agent; the wrapper's stdin is not a terminal, as in a script or CI job.
/// </summary>
public sealed class SshPluginHost : IDisposable
{
    readonly TempDir _dir = new();
    internal PluginProcess? Plugin { get; }
    internal PrivateSshd Sshd { get; } = new();
    internal string HostRoot => _dir["host"];
    /// <summary>Stands in for docker: answers `inspect` with CUDA 9.0 image labels, prints any other argv.</summary>
    internal string FakeDocker => _dir["docker"];

    public SshPluginHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !File.Exists(PluginProcess.Binary) || PrivateSshd.Missing() is not null) return;
        var sim = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", HostRoot, "--gpus", "2");
        Assert.True(sim.ExitCode == 0, sim.Combined);
        Plugin = new PluginProcess(HostRoot, _dir["volumes"], _dir["sock"]);
        File.WriteAllText(FakeDocker, """
            #!/bin/sh
            case "$1" in
              inspect) printf 'nvidia_driver\n9.0\n'; exit 0;;
            esac
            echo "ARGV: $*"
            """);
        File.SetUnixFileMode(FakeDocker, (UnixFileMode)0b111_101_101);
    }

    public void Dispose()
    {
        Plugin?.Stop();
        Plugin?.Dispose();
        Sshd.Dispose();
        _dir.Dispose();
    }
}

/// <summary>out/nvidia-docker with the ssh client, agent and known_hosts of a <see cref="PrivateSshd"/>, stdin closed.</summary>
internal static class SshWrapper
{
    public static string Address(int sshPort, int pluginPort) => $"ssh://{PrivateSshd.User}@127.0.0.1:{sshPort}:{pluginPort}";

    public static (ProcessResult Result, TimeSpan Took) Run(PrivateSshd sshd, Dictionary<string, string?> env, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(TestEnvironment.BinDir, "nvidia-docker"))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in new[] { "NV_GPU", "NV_DOCKER", "NV_DOCKER_MODE", "NV_DOCKER_CONFIG", "NV_DRIVER_ROOT", "NV_DEV_ROOT", "NV_DEBUG" }) psi.Environment.Remove(v);
        psi.Environment["HOME"] = sshd.Home;
        psi.Environment["NV_SSH"] = sshd.SshCommand;
        psi.Environment["SSH_AUTH_SOCK"] = sshd.AgentSocket;
        foreach (var (k, v) in env)
        {
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException("nvidia-docker did not finish in 2 minutes"); }
        return (new ProcessResult(p.ExitCode, stdout.Result, stderr.Result), clock.Elapsed);
    }
}

/// <summary>A test that needs every one of these engines (see EngineFact): skipped with the first reason, never on CI.</summary>
internal sealed class EnginesFactAttribute : FactAttribute
{
    public EnginesFactAttribute(params string[] engines)
    {
        if (TestEnvironment.EnginesRequired) return;
        Skip = engines.Select(e => new EngineFactAttribute(e).Skip).FirstOrDefault(s => s is not null) ?? PrivateSshd.Missing();
    }
}

public sealed class NvidiaDockerSshTests(SshPluginHost host) : IClassFixture<SshPluginHost>
{
    PrivateSshd Sshd => host.Sshd;
    int PluginPort => host.Plugin!.Rest.Port;
    string HostRoot => host.HostRoot;

    (ProcessResult Result, TimeSpan Took) Run(Dictionary<string, string?> env, params string[] args)
    {
        env.TryAdd("NV_DOCKER", host.FakeDocker);
        env.TryAdd("NV_HOST", SshWrapper.Address(Sshd.Port, PluginPort));
        // A Docker host is set, so the only stderr line of a failure is the error (no "DOCKER_HOST is not" warning).
        env.TryAdd("DOCKER_HOST", "unix:///nonexistent/docker.sock");
        return SshWrapper.Run(Sshd, env, args);
    }

    string PluginAnswer(string query)
    {
        using var client = host.Plugin!.RestClient();
        return client.GetStringAsync($"/docker/cli?{query}").Result;
    }

    [EnginesFact("sshd")]
    public void The_plugin_arguments_come_through_the_tunnel_with_one_login()
    {
        var before = Sshd.Logins;
        var (r, _) = Run(new(), "run", "--rm", "cuda:9.0", "nvidia-smi");
        Assert.True(r.ExitCode == 0, r.Combined + Sshd.Log);
        var expected = PluginAnswer("vol=nvidia_driver&dev=");
        Assert.Contains($"--device={HostRoot}/dev/nvidia0:/dev/nvidia0", expected);
        Assert.Equal($"ARGV: run --rm {expected} cuda:9.0 nvidia-smi\n", r.Stdout);
        Assert.Equal("", r.Stderr);
        // /gpu/info/json and /docker/cli over one kept-alive connection: one ssh login, one prompt at most.
        Assert.Equal(before + 1, Sshd.Logins);
    }

    [EnginesFact("sshd")]
    public void NV_GPU_goes_through_the_tunnel_and_an_unknown_GPU_is_the_plugins_error()
    {
        var (r, _) = Run(new() { ["NV_GPU"] = "1" }, "create", "cuda:9.0");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal($"ARGV: create {PluginAnswer("vol=nvidia_driver&dev=1")} cuda:9.0\n", r.Stdout);
        Assert.Contains("/dev/nvidia1:/dev/nvidia1", r.Stdout);
        Assert.DoesNotContain("/dev/nvidia0:", r.Stdout);
        var (bad, _) = Run(new() { ["NV_GPU"] = "7" }, "run", "cuda:9.0");
        AssertOneErrorLine(bad, "invalid device: 7");
    }

    [EnginesFact("sshd")]
    public void Without_an_agent_key_the_login_is_refused_at_once_and_no_password_is_asked_for()
    {
        var before = Sshd.Logins;
        var (r, took) = Run(new() { ["SSH_AUTH_SOCK"] = null }, "run", "cuda:9.0");
        AssertOneErrorLine(r, $"cannot reach the nvidia-docker plugin at localhost:{PluginPort} through ssh to root@127.0.0.1 port {Sshd.Port}: " +
            "root@127.0.0.1: Permission denied (publickey,password).");
        Assert.True(took < TimeSpan.FromSeconds(8), $"took {took}");
        Assert.Equal(before, Sshd.Logins);
    }

    [EnginesFact("sshd")]
    public void An_unreachable_sshd_is_one_error_line()
    {
        var closed = PrivateSshd.FreePort();
        var (r, took) = Run(new() { ["NV_HOST"] = SshWrapper.Address(closed, PluginPort) }, "run", "cuda:9.0");
        AssertOneErrorLine(r, $"cannot reach the nvidia-docker plugin at localhost:{PluginPort} through ssh to root@127.0.0.1 port {closed}: " +
            $"ssh: connect to host 127.0.0.1 port {closed}: Connection refused");
        Assert.True(took < TimeSpan.FromSeconds(8), $"took {took}");
    }

    [EnginesFact("sshd")]
    public void An_unknown_host_key_is_refused_without_asking()
    {
        var (r, _) = Run(new() { ["NV_SSH"] = $"ssh -o UserKnownHostsFile=/dev/null -F {Sshd.ClientConfig}" }, "run", "cuda:9.0");
        AssertOneErrorLine(r, "Host key verification failed.");
    }

    [EnginesFact("sshd")]
    public void A_remote_port_without_a_plugin_is_one_error_line()
    {
        var closed = PrivateSshd.FreePort();
        var (r, _) = Run(new() { ["NV_HOST"] = SshWrapper.Address(Sshd.Port, closed) }, "run", "cuda:9.0");
        AssertOneErrorLine(r, $"cannot reach the nvidia-docker plugin at localhost:{closed} through ssh to root@127.0.0.1 port {Sshd.Port}: " +
            "channel 0: open failed: connect failed: Connection refused");
    }

    [EnginesFact("sshd")]
    public void A_server_that_never_speaks_ssh_times_out()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        // The user's own options come first and win over the wrapper's ConnectTimeout=10.
        var (r, took) = Run(new() { ["NV_HOST"] = SshWrapper.Address(port, PluginPort), ["NV_SSH"] = $"ssh -o ConnectTimeout=2 -F {Sshd.ClientConfig}" }, "run", "cuda:9.0");
        AssertOneErrorLine(r, "Connection timed out during banner exchange");
        Assert.True(took < TimeSpan.FromSeconds(8), $"took {took}");
    }

    [EnginesFact("sshd")]
    public void A_plugin_that_never_answers_is_given_up_after_10_seconds()
    {
        using var stuck = new TcpListener(IPAddress.Loopback, 0);
        stuck.Start();
        var port = ((IPEndPoint)stuck.LocalEndpoint).Port;
        var (r, took) = Run(new() { ["NV_HOST"] = SshWrapper.Address(Sshd.Port, port) }, "run", "cuda:9.0");
        AssertOneErrorLine(r, $"cannot reach the nvidia-docker plugin at localhost:{port} through ssh to root@127.0.0.1 port {Sshd.Port}: no answer within 10 s");
        Assert.InRange(took.TotalSeconds, 9, 20);
    }

    /// <summary>The original's failure: exit 1, nothing on stdout, one "argv0 | date time Error: …" line.</summary>
    static void AssertOneErrorLine(ProcessResult r, string message)
    {
        Assert.True(r.ExitCode == 1, r.Combined);
        Assert.Equal("", r.Stdout);
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.Matches(@"^\S*nvidia-docker \| \d{4}/\d\d/\d\d \d\d:\d\d:\d\d Error: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }
}

/// <summary>The same through a private dockerd: the container sees the GPUs and the driver volume the plugin named.</summary>
public sealed class NvidiaDockerSshEngineTests(NvidiaDockerEngineHost host, PrivateSshd sshd)
    : IClassFixture<NvidiaDockerEngineHost>, IClassFixture<PrivateSshd>
{
    const string Inside = "ls /dev | grep nvidia | sort | tr '\\n' ' '; echo; readlink /usr/local/nvidia/lib64/libcuda.so.1; nvidia-smi -L";

    [EnginesFact("dockerd", "sshd")]
    public void nvidia_docker_run_through_an_ssh_tunnel_gives_the_container_the_remote_GPUs()
    {
        var before = sshd.Logins;
        var (r, _) = SshWrapper.Run(sshd, new()
        {
            ["NV_HOST"] = SshWrapper.Address(sshd.Port, host.Plugin!.Rest.Port), ["DOCKER_HOST"] = "unix://" + host.Docker!.Socket, ["NV_GPU"] = "1",
        }, "run", "--rm", NvidiaDockerEngineHost.Cuda, "sh", "-c", Inside);
        Assert.True(r.ExitCode == 0, r.Combined + sshd.Log);
        var lines = r.Stdout.Split('\n');
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl", lines[0].Trim());
        Assert.Equal("libcuda.so.550.54.15", lines[1]);
        Assert.StartsWith("GPU 1: NVIDIA A100-SXM4-40GB", lines[2]);
        Assert.Equal(before + 1, sshd.Logins);
    }
}

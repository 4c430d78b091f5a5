using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Tests.Support;

/// <summary>
/// A private sshd on 127.0.0.1 and a free port, everything it reads in one temp dir (config, host key,
/// authorized_keys; no pid file), plus an ssh-agent holding the one key it accepts, and the client side: a HOME
/// whose .ssh/known_hosts has the host key and an ssh config (for `ssh -F`, as OpenSSH takes ~ from the password
/// database, not $HOME) that reads that file. /etc/ssh and the machine's sshd are never used; sshd runs in a mount
/// namespace of its own with a fresh /run, where it finds the privilege separation directory it insists on.
/// The server offers password logins too, so a client that could prompt for one would: the tests check it does not.
/// </summary>
public sealed class PrivateSshd : IDisposable
{
    public static string User => "root";
    readonly TempDir _dir = new();
    readonly List<Process> _processes = [];
    readonly StringBuilder _log = new();

    internal int Port { get; private set; }
    internal string AgentSocket => _dir["agent.sock"];
    internal string Home => _dir["home"];
    internal string KnownHosts => Path.Combine(Home, ".ssh", "known_hosts");
    internal string ClientConfig => _dir["ssh_config"];
    /// <summary>NV_SSH for the wrapper: the machine's ssh client with this server's client config.</summary>
    internal string SshCommand => $"ssh -F {ClientConfig}";
    internal string Log { get { lock (_log) return _log.ToString(); } }
    /// <summary>Logins the server accepted so far.</summary>
    internal int Logins => Log.Split('\n').Count(l => l.Contains("Accepted publickey for ", StringComparison.Ordinal));

    public static string? Missing() =>
        !TestEnvironment.IsRoot ? "sshd tests need root" :
        ProcessRunner.Which("sshd") is null ? "sshd is not installed (apt-get install openssh-server)" :
        new[] { "ssh", "ssh-agent", "ssh-add", "ssh-keygen" }.FirstOrDefault(p => ProcessRunner.Which(p) is null) is { } p ? $"{p} is not installed (apt-get install openssh-client)" : null;

    public PrivateSshd()
    {
        if (Missing() is not null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(KnownHosts)!);
        var hostKey = Keygen("host_ed25519");
        var clientKey = Keygen("client_ed25519");
        File.WriteAllText(_dir["authorized_keys"], File.ReadAllText(clientKey + ".pub"));
        StartAgent(clientKey);
        for (var attempt = 0; Port == 0; attempt++)
        {
            var port = FreePort();
            if (StartServer(port, hostKey)) Port = port;
            else if (attempt == 2) throw new InvalidOperationException($"sshd did not start:\n{Log}");
        }
        var hostKeyLine = File.ReadAllText(hostKey + ".pub").Split(' ');
        File.WriteAllText(KnownHosts, $"[127.0.0.1]:{Port} {hostKeyLine[0]} {hostKeyLine[1]}\n");
        File.WriteAllText(ClientConfig, $"""
            Host *
              UserKnownHostsFile {KnownHosts}
              GlobalKnownHostsFile /dev/null
              UpdateHostKeys no

            """);
    }

    string Keygen(string name)
    {
        var r = ProcessRunner.Run(ProcessRunner.Which("ssh-keygen")!, ["-q", "-t", "ed25519", "-N", "", "-C", "gantry-test", "-f", _dir[name]]);
        Assert.True(r.ExitCode == 0, r.Combined);
        return _dir[name];
    }

    // The key lives in the agent only, as the brief for the wrapper's auth says: SSH_AUTH_SOCK first.
    void StartAgent(string key)
    {
        var agent = Start(ProcessRunner.Which("ssh-agent")!, ["-D", "-a", AgentSocket]);
        for (var i = 0; i < 100 && !File.Exists(AgentSocket); i++) Thread.Sleep(50);
        var psi = new ProcessStartInfo(ProcessRunner.Which("ssh-add")!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-q");
        psi.ArgumentList.Add(key);
        psi.Environment["SSH_AUTH_SOCK"] = AgentSocket;
        using var add = Process.Start(psi)!;
        var err = add.StandardError.ReadToEndAsync();
        Assert.True(add.WaitForExit(10_000) && add.ExitCode == 0, $"ssh-add failed: {err.Result}; agent running: {!agent.HasExited}");
        File.Delete(key);
    }

    bool StartServer(int port, string hostKey)
    {
        var config = _dir["sshd_config"];
        File.WriteAllText(config, $"""
            ListenAddress 127.0.0.1
            Port {port}
            HostKey {hostKey}
            PidFile none
            AuthorizedKeysFile {_dir["authorized_keys"]}
            StrictModes no
            UsePAM no
            PermitRootLogin prohibit-password
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            AllowTcpForwarding local
            AllowAgentForwarding no
            X11Forwarding no
            PermitTTY no
            UseDNS no
            LogLevel VERBOSE

            """);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sshd = Start("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c",
            "mount -t tmpfs -o mode=0755 gantry-sshd /run && mkdir -m 0755 /run/sshd && exec \"$@\"", "sh",
            ProcessRunner.Which("sshd")!, "-D", "-e", "-f", config], line =>
            {
                if (line.Contains($"Server listening on 127.0.0.1 port {port}", StringComparison.Ordinal)) listening.TrySetResult();
            });
        sshd.Exited += (_, _) => listening.TrySetResult();
        sshd.EnableRaisingEvents = true;
        listening.Task.Wait(TimeSpan.FromSeconds(20));
        return !sshd.HasExited && listening.Task.IsCompleted;
    }

    Process Start(string program, string[] args, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(ProcessRunner.Which(program) ?? program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        DataReceivedEventHandler log = (_, e) =>
        {
            if (e.Data is null) return;
            lock (_log) _log.AppendLine(e.Data);
            onLine?.Invoke(e.Data);
        };
        p.OutputDataReceived += log;
        p.ErrorDataReceived += log;
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes.Add(p);
        return p;
    }

    /// <summary>A loopback port nothing listens on (just now).</summary>
    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            // Our own children, by pid: the sshd under unshare/sh is exec'd in place, so this is sshd itself.
            try { if (!p.HasExited) p.Kill(); p.WaitForExit(5_000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _dir.Dispose();
    }
}

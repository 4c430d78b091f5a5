using System.Diagnostics;
using System.Globalization;

namespace Gantry.NvidiaDockerWrapper;

// The plugin's port on a remote host through `ssh -W localhost:PORT`: ssh's stdin and stdout are the connection.
// The user's ssh client authenticates (agent, keys, config, known_hosts). Without a terminal on stdin it runs in
// batch mode, so no password or host-key question can wait for an answer nobody will type (the original's
// password prompt failed there too); ssh's messages are kept for the error line, and a deadline kills it, so a
// silent server or a stuck plugin cannot hang the wrapper.
internal sealed class SshTunnel : IDisposable
{
    public const int ConnectTimeoutSeconds = 10;

    readonly Process _ssh;
    readonly Task<string> _messages;
    readonly Timer _deadline;
    readonly TimeSpan _limit;
    volatile bool _expired;

    public Stream Stream { get; }

    SshTunnel(Process ssh, TimeSpan limit)
    {
        _ssh = ssh;
        _limit = limit;
        _messages = ssh.StandardError.ReadToEndAsync();
        Stream = new DuplexStream(ssh.StandardOutput.BaseStream, ssh.StandardInput.BaseStream);
        _deadline = new Timer(_ => { _expired = true; Kill(); }, null, limit, Timeout.InfiniteTimeSpan);
    }

    /// <param name="sshCommand">NV_SSH split on whitespace ("ssh" by default); its own options come first and so win.</param>
    /// <param name="batch">no terminal to ask on: BatchMode=yes (no password or host-key prompt)</param>
    public static SshTunnel Open(IReadOnlyList<string> sshCommand, PluginAddress plugin, bool batch, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(DockerLookup.Resolve(sshCommand[0]))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in Arguments(sshCommand, plugin, batch)) psi.ArgumentList.Add(a);
        return new SshTunnel(Process.Start(psi) ?? throw new IOException($"cannot start {psi.FileName}"), limit);
    }

    /// <summary>ssh's arguments after its name: the user's, then ours, then "--" so no host or user is read as an option.</summary>
    public static IReadOnlyList<string> Arguments(IReadOnlyList<string> sshCommand, PluginAddress plugin, bool batch)
    {
        var host = plugin.Host.Trim('[', ']');
        List<string> args = [.. sshCommand.Skip(1)];
        if (batch) args.AddRange(["-o", "BatchMode=yes"]);
        args.AddRange(["-o", $"ConnectTimeout={ConnectTimeoutSeconds}", "-p", plugin.SshPort.ToString(CultureInfo.InvariantCulture),
            "-W", $"localhost:{plugin.Port.ToString(CultureInfo.InvariantCulture)}", "--",
            string.IsNullOrEmpty(plugin.SshUser) ? host : $"{plugin.SshUser}@{host}"]);
        return args;
    }

    /// <summary>
    /// Why the tunnel broke, once it has: the deadline, or what ssh said (its lines joined, less the notes of a
    /// known_hosts addition and of each wrong password before the last); null if neither.
    /// </summary>
    public string? Failure()
    {
        if (_expired) return $"no answer within {_limit.TotalSeconds:0} s";
        // ssh ends soon after its connection does; its messages are complete once it has.
        if (!_ssh.WaitForExit(2_000) || !_messages.Wait(500)) return null;
        var lines = _messages.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("Warning: Permanently added", StringComparison.Ordinal) && !l.EndsWith("please try again.", StringComparison.Ordinal)).ToList();
        return lines.Count > 0 ? string.Join("; ", lines) : _ssh.ExitCode != 0 ? $"ssh exited with status {_ssh.ExitCode}" : null;
    }

    void Kill()
    {
        try { if (!_ssh.HasExited) _ssh.Kill(); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        _deadline.Dispose();
        Kill();
        // Reaped here, not left to whatever this process execs next.
        _ssh.WaitForExit(2_000);
        _ssh.Dispose();
    }

    sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => write.Flush();
        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);
    }
}

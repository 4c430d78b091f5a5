using System.Text;
using Gantry.Host;

namespace Gantry.Runtime;

/// <summary>What a served hook answers: its exit code and what it wrote (the client prints it on stderr); null
/// asks the client to exec the hook itself. Sent runs once the answer is out (or could not be sent).</summary>
internal sealed record HookAnswer(int ExitCode, string Messages)
{
    public Action? Sent { get; init; }
}

// The shim's end of native/hook-client: a listening unix socket in a directory only its owner can enter, each
// connection one hook run (see the client's source for the protocol). The peer must be this process's user, and
// it must send its mount namespace. The socket file is removed on Dispose, so a client that comes later (the spec
// reused by hand) finds nothing and runs the hook itself. The socket calls are Host/UnixSocketServer's.
internal sealed class HookServer : IDisposable
{
    public const string DirectoryVariable = "GANTRY_HOOK_SOCKET_DIR";
    public const string DefaultDirectory = "/run/gantry/hooks";
    const string Hello = "GANTRY-HOOK 1\n";
    const int MaxState = 4 << 20;
    static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30); // a client that stops sending does not hold the container forever

    readonly UnixSocketServer _socket;
    readonly uint _uid;
    public string SocketPath => _socket.Path;

    HookServer(UnixSocketServer socket, uint uid) { _socket = socket; _uid = uid; }

    /// <summary>Listens in GANTRY_HOOK_SOCKET_DIR (default /run/gantry/hooks); null, with the reason, where the
    /// directory cannot be made or is not private to this user.</summary>
    public static HookServer? TryListen(out string? whyNot, string? directory = null)
    {
        var dir = directory ?? (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } d ? d : DefaultDirectory);
        try { Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { whyNot = $"cannot create {dir}: {e.Message}"; return null; }
        var uid = Interop.GetEuid();
        if (LinuxSyscalls.Instance.Statx(At.FdCwd, dir, At.SymlinkNoFollow, out var st) < 0 || !st.IsDirectory ||
            st.Uid != uid || (st.Mode & 0b000_111_111) != 0)
        {
            whyNot = $"{dir} is not a directory private to this user";
            return null;
        }
        RemoveStale(dir);
        var path = Path.Combine(dir, $"{Environment.ProcessId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 8))}.sock");
        return UnixSocketServer.TryListen(path, out whyNot) is { } socket ? new HookServer(socket, uid) : null;
    }

    /// <summary>
    /// Removes the sockets of shims that are gone (killed: Dispose never ran). The name starts with the shim's pid;
    /// a pid in use again keeps its stale socket until it is free. A live shim's socket removed by mistake (a shim
    /// in another pid namespace sharing this directory) costs only speed: its client finds no socket and runs the
    /// hook itself.
    /// </summary>
    internal static int RemoveStale(string dir)
    {
        var removed = 0;
        try
        {
            foreach (var path in Directory.EnumerateFiles(dir, "*.sock"))
            {
                var name = Path.GetFileName(path);
                var dash = name.IndexOf('-');
                if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) ||
                    pid <= 0 || pid == Environment.ProcessId) continue;
                if (Interop.Kill(pid, 0) == 0 || System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.ESRCH) continue;
                try { File.Delete(path); removed++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return removed;
    }

    /// <summary>Answers connections until stop becomes readable (the runtime's pidfd: it exited).</summary>
    public void ServeUntil(int stop, Func<byte[], OwnedFd, HookAnswer?> handle, RuntimeLog log)
    {
        while (_socket.Accept(stop) is { } conn)
            using (conn) Answer(conn, handle, log);
    }

    void Answer(UnixConnection conn, Func<byte[], OwnedFd, HookAnswer?> handle, RuntimeLog log)
    {
        if (conn.PeerUid is not { } uid || uid != _uid)
        {
            // Someone else (a hook in a user namespace maps to another uid): it runs the hook itself, with only
            // its own rights.
            log.Debug($"hook server {SocketPath}: a client of uid {conn.PeerUid} runs its hook itself");
            Reply(conn, "FALLBACK\n", log);
            return;
        }
        conn.SetReceiveTimeout(ClientTimeout);
        using var ns = ReceiveHello(conn);
        if (ns is null) { log.Warning($"hook server {SocketPath}: a client without the greeting and its namespace"); return; }
        byte[] state;
        try { state = BoundedRead.All(0, MaxState, m => conn.Read(m.Span), () => new IOException("the container state is too large")).ToArray(); }
        catch (IOException e) { log.Warning($"hook server {SocketPath}: {e.Message}"); return; }
        var answer = handle(state, ns);
        try { Reply(conn, answer is null ? "FALLBACK\n" : $"EXIT {answer.ExitCode}\n{answer.Messages}", log); }
        finally { answer?.Sent?.Invoke(); }
    }

    void Reply(UnixConnection conn, string reply, RuntimeLog log)
    {
        if (!conn.SendAll(Encoding.UTF8.GetBytes(reply))) log.Warning($"hook server {SocketPath}: the client went away before its answer");
    }

    // The greeting with exactly one descriptor attached; null when it is anything else.
    static OwnedFd? ReceiveHello(UnixConnection conn)
    {
        var buffer = new byte[Hello.Length];
        var n = conn.ReceiveWithDescriptor(buffer, out var descriptor);
        if (n == Hello.Length && buffer.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(Hello))) return descriptor;
        descriptor?.Dispose();
        return null;
    }

    public void Dispose() => _socket.Dispose();
}

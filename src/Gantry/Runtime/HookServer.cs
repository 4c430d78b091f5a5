using System.Runtime.InteropServices;
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
// reused by hand) finds nothing and runs the hook itself.
internal sealed class HookServer : IDisposable
{
    public const string DirectoryVariable = "GANTRY_HOOK_SOCKET_DIR";
    public const string DefaultDirectory = "/run/gantry/hooks";
    const string Hello = "GANTRY-HOOK 1\n";
    const int MaxState = 4 << 20;

    int _listen;
    public string SocketPath { get; }

    HookServer(int listen, string path) { _listen = listen; SocketPath = path; }

    /// <summary>Listens in GANTRY_HOOK_SOCKET_DIR (default /run/gantry/hooks); null, with the reason, where the
    /// directory cannot be made or is not private to this user.</summary>
    public static unsafe HookServer? TryListen(out string? whyNot)
    {
        var dir = Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } d ? d : DefaultDirectory;
        try { Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { whyNot = $"cannot create {dir}: {e.Message}"; return null; }
        if (LinuxSyscalls.Instance.Statx(At.FdCwd, dir, At.SymlinkNoFollow, out var st) < 0 || !st.IsDirectory ||
            st.Uid != Interop.GetEuid() || (st.Mode & 0b000_111_111) != 0)
        {
            whyNot = $"{dir} is not a directory private to this user";
            return null;
        }
        var path = Path.Combine(dir, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 8)) + ".sock");
        var addr = stackalloc byte[Interop.UnixAddressSize];
        var len = Interop.UnixAddress(path, addr);
        if (len < 0) { whyNot = $"{path} is too long for a socket"; return null; }
        var fd = Interop.SocketCall(1, 1 | O.CloExec, 0); // AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC
        if (fd < 0) { whyNot = $"socket: {Errno.Describe(Marshal.GetLastPInvokeError())}"; return null; }
        if (Interop.BindCall(fd, addr, len) < 0 || Interop.ListenCall(fd, 8) < 0)
        {
            whyNot = $"cannot listen on {path}: {Errno.Describe(Marshal.GetLastPInvokeError())}";
            Interop.Close(fd);
            File.Delete(path);
            return null;
        }
        whyNot = null;
        return new HookServer(fd, path);
    }

    /// <summary>Answers connections until stop becomes readable (the runtime's pidfd: it exited).</summary>
    public unsafe void ServeUntil(int stop, Func<byte[], OwnedFd, HookAnswer?> handle, RuntimeLog log)
    {
        var fds = stackalloc Interop.PollFd[2];
        while (true)
        {
            fds[0] = new Interop.PollFd { Fd = _listen, Events = Interop.PollIn };
            fds[1] = new Interop.PollFd { Fd = stop, Events = Interop.PollIn };
            var r = Interop.Poll(fds, 2, -1);
            if (r < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR) continue;
                throw new SyscallException("poll", SocketPath, errno);
            }
            if (fds[1].Returned != 0) return;
            if (fds[0].Returned == 0) continue;
            var conn = Interop.Accept4Call(_listen, null, null, O.CloExec);
            if (conn < 0) continue;
            try { Answer(conn, handle, log); }
            finally { Interop.Close(conn); }
        }
    }

    unsafe void Answer(int conn, Func<byte[], OwnedFd, HookAnswer?> handle, RuntimeLog log)
    {
        Interop.PeerCredentials peer;
        var size = sizeof(Interop.PeerCredentials);
        if (Interop.GetSockOptCall(conn, 1, 17, &peer, &size) < 0 || peer.Uid != Interop.GetEuid()) // SO_PEERCRED
        {
            // Someone else (a hook in a user namespace maps to another uid): it runs the hook itself, with only
            // its own rights.
            log.Debug($"hook server {SocketPath}: a client of uid {peer.Uid} runs its hook itself");
            Reply(conn, "FALLBACK\n", log);
            return;
        }
        var tv = stackalloc long[2] { 30, 0 }; // a client that stops sending does not hold the container forever
        Interop.SetSockOptCall(conn, 1, 20, tv, 16); // SO_RCVTIMEO
        using var ns = ReceiveHello(conn);
        if (ns is null) { log.Warning($"hook server {SocketPath}: a client without the greeting and its namespace"); return; }
        byte[] state;
        try { state = BoundedRead.All(0, MaxState, m => ReadSome(conn, m.Span), () => new IOException("the container state is too large")).ToArray(); }
        catch (IOException e) { log.Warning($"hook server {SocketPath}: {e.Message}"); return; }
        var answer = handle(state, ns);
        try { Reply(conn, answer is null ? "FALLBACK\n" : $"EXIT {answer.ExitCode}\n{answer.Messages}", log); }
        finally { answer?.Sent?.Invoke(); }
    }

    unsafe void Reply(int conn, string reply, RuntimeLog log)
    {
        var bytes = Encoding.UTF8.GetBytes(reply);
        fixed (byte* p = bytes)
        {
            for (var done = 0; done < bytes.Length;)
            {
                var n = Interop.SendCall(conn, p + done, (nuint)(bytes.Length - done), 0x4000); // MSG_NOSIGNAL
                if (n <= 0) { log.Warning($"hook server {SocketPath}: the client went away before its answer"); return; }
                done += (int)n;
            }
        }
    }

    // The greeting with exactly one descriptor attached; null when it is anything else.
    static unsafe OwnedFd? ReceiveHello(int conn)
    {
        var buffer = stackalloc byte[Hello.Length];
        var control = stackalloc byte[64];
        var iov = new Interop.IoVec { Base = buffer, Length = (nuint)Hello.Length };
        var msg = new Interop.MsgHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
        nint n;
        do n = Interop.RecvMsgCall(conn, &msg, 0x40000000); // MSG_CMSG_CLOEXEC
        while (n < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        // struct cmsghdr: size_t len, int level, int type, then the data.
        int? fd = null;
        if (msg.ControlLength >= 20 && *(nuint*)control == 20 && *(int*)(control + 8) == 1 && *(int*)(control + 12) == 1)
            fd = *(int*)(control + 16); // SOL_SOCKET, SCM_RIGHTS, one descriptor
        var owned = fd is { } f ? new OwnedFd(LinuxSyscalls.Instance, f) : null;
        if (n != Hello.Length || !new ReadOnlySpan<byte>(buffer, Hello.Length).SequenceEqual(Encoding.ASCII.GetBytes(Hello)))
        {
            owned?.Dispose();
            return null;
        }
        return owned;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _listen, -1);
        if (fd < 0) return;
        Interop.Close(fd);
        try { File.Delete(SocketPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // read(2) on a connection; EINTR retried, a timeout an IOException.
    static unsafe int ReadSome(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Interop.Read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("read", "the hook connection", errno);
            }
        }
    }
}

using System.Runtime.InteropServices;

namespace Gantry.Host;

// A listening unix stream socket over plain libc calls (see UnixSocketStream for why not System.Net.Sockets), and
// its connections: the peer's uid, a message carrying one descriptor (SCM_RIGHTS), bounded reads, whole sends.
// The socket file is removed on Dispose.
internal sealed class UnixSocketServer : IDisposable
{
    const int AfUnix = 1, SockStream = 1, Backlog = 8;
    int _listen;

    public string Path { get; }

    UnixSocketServer(int listen, string path) { _listen = listen; Path = path; }

    /// <summary>Binds and listens at path; null, with the reason, when that fails.</summary>
    public static unsafe UnixSocketServer? TryListen(string path, out string? whyNot)
    {
        var addr = stackalloc byte[Interop.UnixAddressSize];
        var len = Interop.UnixAddress(path, addr);
        if (len < 0) { whyNot = $"{path} is too long for a socket"; return null; }
        var fd = Interop.SocketCall(AfUnix, SockStream | O.CloExec, 0);
        if (fd < 0) { whyNot = $"socket: {Errno.Describe(Marshal.GetLastPInvokeError())}"; return null; }
        if (Interop.BindCall(fd, addr, len) < 0 || Interop.ListenCall(fd, Backlog) < 0)
        {
            whyNot = $"cannot listen on {path}: {Errno.Describe(Marshal.GetLastPInvokeError())}";
            Interop.Close(fd);
            File.Delete(path);
            return null;
        }
        whyNot = null;
        return new UnixSocketServer(fd, path);
    }

    /// <summary>The next connection; null once <paramref name="stop"/> becomes readable (a pidfd: the process exited).</summary>
    public unsafe UnixConnection? Accept(int stop)
    {
        var fds = stackalloc Interop.PollFd[2];
        while (true)
        {
            fds[0] = new Interop.PollFd { Fd = _listen, Events = Interop.PollIn };
            fds[1] = new Interop.PollFd { Fd = stop, Events = Interop.PollIn };
            if (Interop.Poll(fds, 2, -1) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR) continue;
                throw new SyscallException("poll", Path, errno);
            }
            if (fds[1].Returned != 0) return null;
            if (fds[0].Returned == 0) continue;
            var conn = Interop.Accept4Call(_listen, null, null, O.CloExec);
            if (conn >= 0) return new UnixConnection(conn);
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _listen, -1);
        if (fd < 0) return;
        Interop.Close(fd);
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One accepted connection of a <see cref="UnixSocketServer"/>.</summary>
internal sealed class UnixConnection(int fd) : IDisposable
{
    const int SolSocket = 1, ScmRights = 1, SoPeerCred = 17, SoRcvTimeo = 20;
    const int MsgNoSignal = 0x4000, MsgCmsgCloexec = 0x40000000;
    int _fd = fd;

    /// <summary>The uid of the process that connected (SO_PEERCRED); null when the kernel does not say.</summary>
    public unsafe uint? PeerUid
    {
        get
        {
            Interop.PeerCredentials peer;
            var size = sizeof(Interop.PeerCredentials);
            return Interop.GetSockOptCall(_fd, SolSocket, SoPeerCred, &peer, &size) < 0 ? null : peer.Uid;
        }
    }

    /// <summary>Reads give up (IOException) after this long without data.</summary>
    public unsafe void SetReceiveTimeout(TimeSpan timeout)
    {
        var tv = stackalloc long[2] { (long)timeout.TotalSeconds, timeout.Milliseconds * 1000L };
        Interop.SetSockOptCall(_fd, SolSocket, SoRcvTimeo, tv, 16);
    }

    /// <summary>One recvmsg into <paramref name="buffer"/>; <paramref name="descriptor"/> is the one descriptor the
    /// message carried (SCM_RIGHTS, close-on-exec), null when it carried none or anything else.</summary>
    public unsafe int ReceiveWithDescriptor(Span<byte> buffer, out OwnedFd? descriptor)
    {
        const int room = 64; // a few descriptors: any beyond the first are closed, not leaked
        var control = stackalloc byte[room];
        nint n;
        descriptor = null;
        fixed (byte* data = buffer)
        {
            var iov = new Interop.IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new Interop.MsgHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = room };
            do n = Interop.RecvMsgCall(_fd, &msg, MsgCmsgCloexec);
            while (n < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            var header = (Interop.ControlMessageHeader*)control;
            if (n < 0 || msg.ControlLength < (nuint)Interop.ControlMessageLength(0) || header->Level != SolSocket || header->Type != ScmRights) return (int)n;
            var fds = new ReadOnlySpan<int>(Interop.ControlMessageData(control), (int)(header->Length - (nuint)Interop.ControlMessageLength(0)) / sizeof(int));
            if (fds.Length == 1) descriptor = new OwnedFd(LinuxSyscalls.Instance, fds[0]);
            else foreach (var fd in fds) Interop.Close(fd);
        }
        return (int)n;
    }

    /// <summary>read(2), EINTR retried; a timeout or an error is an IOException.</summary>
    public unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Interop.Read(_fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("read", "a unix socket connection", errno);
            }
        }
    }

    /// <summary>Sends all of <paramref name="bytes"/> (no SIGPIPE); false when the peer went away first.</summary>
    public unsafe bool SendAll(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            for (var done = 0; done < bytes.Length;)
            {
                var n = Interop.SendCall(_fd, p + done, (nuint)(bytes.Length - done), MsgNoSignal);
                if (n <= 0) return false;
                done += (int)n;
            }
        }
        return true;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Interop.Close(fd);
    }
}

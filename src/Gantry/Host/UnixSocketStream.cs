using System.Runtime.InteropServices;

namespace Gantry.Host;

// A connected unix stream socket over plain libc calls. System.Net.Sockets costs a start-up it only repays for
// asynchronous I/O (an epoll thread, address-family probes, a few hundred KB of code to fault in), and the
// nvidia-docker wrapper, which asks the Docker daemon one or two questions per `docker run`, is all start-up.
internal sealed class UnixSocketStream : Stream
{
    int _fd;

    UnixSocketStream(int fd) => _fd = fd;

    /// <summary>Connects to the socket file at path; reads and writes give up (IOException) after timeout.</summary>
    public static unsafe UnixSocketStream Connect(string path, TimeSpan timeout)
    {
        var addr = stackalloc byte[Interop.UnixAddressSize];
        var len = Interop.UnixAddress(path, addr);
        if (len < 0) throw new SyscallException("connect", path, 36); // ENAMETOOLONG
        var fd = Interop.SocketCall(1, 1 | O.CloExec, 0); // AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC
        if (fd < 0) throw new SyscallException("socket", path, Marshal.GetLastPInvokeError());
        var stream = new UnixSocketStream(fd);
        try
        {
            int rc;
            do rc = Interop.ConnectCall(fd, addr, len);
            while (rc < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            if (rc < 0) throw new SyscallException("connect", path, Marshal.GetLastPInvokeError());
            var tv = stackalloc long[2] { (long)timeout.TotalSeconds, timeout.Milliseconds * 1000L };
            foreach (var option in (ReadOnlySpan<int>)[20, 21]) // SO_RCVTIMEO, SO_SNDTIMEO
                if (Interop.SetSockOptCall(fd, 1, option, tv, 16) < 0) throw new SyscallException("setsockopt", path, Marshal.GetLastPInvokeError());
            return stream;
        }
        catch { stream.Dispose(); throw; }
    }

    public override unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Interop.Read(Fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != 4) throw Failure("read", errno);
            }
        }
    }

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var p = start;
            var left = buffer.Length;
            while (left > 0)
            {
                // MSG_NOSIGNAL: a daemon that went away is an error here, not a SIGPIPE for the whole process.
                var n = Interop.SendCall(Fd, p, (nuint)left, 0x4000);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR) continue;
                    throw Failure("write", errno);
                }
                p += n;
                left -= (int)n;
            }
        }
    }

    int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(UnixSocketStream));

    static IOException Failure(string call, int errno) =>
        errno == Errno.EAGAIN ? new IOException($"{call}: timed out") : new SyscallException(call, "unix socket", errno); // EAGAIN: SO_*TIMEO ran out

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Flush() { }
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_fd >= 0) { Interop.Close(_fd); _fd = -1; }
        base.Dispose(disposing);
    }
}

namespace Gantry.Host;

/// <summary>A file descriptor this code owns and closes. <see cref="ProcPath"/> names exactly this open file.</summary>
internal sealed class OwnedFd : IDisposable
{
    readonly ISyscalls _sys;
    int _fd;

    public OwnedFd(ISyscalls sys, int fd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        _sys = sys;
        _fd = fd;
    }

    public int Value => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(OwnedFd));

    /// <summary>The magic link to this fd: mount onto it, never onto a path the image can change.</summary>
    public string ProcPath => $"/proc/self/fd/{Value}";

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) _sys.Close(fd);
    }
}

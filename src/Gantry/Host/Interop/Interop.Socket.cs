using System.Runtime.InteropServices;

namespace Gantry.Host;

// A bound unix socket file that outlives its creator, as a daemon's socket does. .NET's Socket removes
// the file it bound when disposed, so the simulator binds through libc directly.
internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int SocketCall(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int BindCall(int fd, byte* addr, int len);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseSocket(int fd);

    /// <summary>Creates a socket file at path (under 108 bytes); returns errno, 0 on success.</summary>
    public static unsafe int CreateSocketFile(string path)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(path);
        if (name.Length >= 108) return 36; // ENAMETOOLONG
        var addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        addr[0] = 1; // AF_UNIX, little-endian sa_family_t
        name.CopyTo(new Span<byte>(addr + 2, 108));
        var fd = SocketCall(1, 1, 0);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        var rc = BindCall(fd, addr, 2 + name.Length + 1);
        var err = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        CloseSocket(fd);
        return err;
    }
}

using System.Runtime.InteropServices;

namespace Gantry.Host;

// Unix sockets through libc: see CreateSocketFile and UnixSocketStream for why not System.Net.Sockets.
internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    internal static partial int SocketCall(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int ConnectCall(int fd, byte* addr, int len);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOptCall(int fd, int level, int name, void* value, int len);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint SendCall(int fd, byte* buffer, nuint count, int flags);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int BindCall(int fd, byte* addr, int len);

    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    internal static partial int ListenCall(int fd, int backlog);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    internal static unsafe partial int Accept4Call(int fd, void* addr, void* len, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint RecvMsgCall(int fd, MsgHeader* msg, int flags);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOptCall(int fd, int level, int name, void* value, int* len);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlCall(int fd, nuint request, nint arg);

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MsgHeader
    {
        public void* Name; public uint NameLength; public IoVec* Iov; public nuint IovLength;
        public void* Control; public nuint ControlLength; public int Flags;
    }

    /// <summary>struct cmsghdr: the header of one control message (ancillary data) of recvmsg(2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ControlMessageHeader { public nuint Length; public int Level; public int Type; }

    // CMSG_ALIGN, CMSG_LEN and CMSG_DATA of <sys/socket.h>: headers and data are aligned to size_t.
    static int ControlMessageAlign(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);
    internal static unsafe int ControlMessageLength(int dataLength) => ControlMessageAlign(sizeof(ControlMessageHeader)) + dataLength;
    internal static unsafe byte* ControlMessageData(byte* header) => header + ControlMessageAlign(sizeof(ControlMessageHeader));

    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec { public void* Base; public nuint Length; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct PeerCredentials { public int Pid; public uint Uid; public uint Gid; }

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseSocket(int fd);

    internal const int UnixAddressSize = 110;

    /// <summary>Fills a struct sockaddr_un of UnixAddressSize bytes; returns its length, -1 when path is 108 bytes or more.</summary>
    internal static unsafe int UnixAddress(string path, byte* addr)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(path);
        if (name.Length >= 108) return -1;
        new Span<byte>(addr, UnixAddressSize).Clear();
        addr[0] = 1; // AF_UNIX, little-endian sa_family_t
        name.CopyTo(new Span<byte>(addr + 2, 108));
        return 2 + name.Length + 1;
    }

    /// <summary>
    /// Creates a socket file at path that outlives its creator, as a daemon's socket does (.NET's Socket removes
    /// the file it bound when disposed); returns errno, 0 on success. The path must be under 108 bytes.
    /// </summary>
    public static unsafe int CreateSocketFile(string path)
    {
        var addr = stackalloc byte[UnixAddressSize];
        var len = UnixAddress(path, addr);
        if (len < 0) return 36; // ENAMETOOLONG
        var fd = SocketCall(1, 1, 0);
        if (fd < 0) return Marshal.GetLastPInvokeError();
        var rc = BindCall(fd, addr, len);
        var err = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        CloseSocket(fd);
        return err;
    }
}

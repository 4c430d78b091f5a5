using System.Runtime.InteropServices;

namespace Gantry.Host;

/// <summary>open(2) flags. O_DIRECTORY and O_NOFOLLOW differ between x86-64 and arm64, so they are computed.</summary>
internal static class O
{
    static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
    public const int RdOnly = 0, WrOnly = 1, RdWr = 2;
    public const int Creat = 0x40, Excl = 0x80, Trunc = 0x200, Append = 0x400;
    public const int CloExec = 0x80000, Path = 0x200000;
    public static readonly int Directory = Arm64 ? 0x4000 : 0x10000;
    public static readonly int NoFollow = Arm64 ? 0x8000 : 0x20000;
}

internal static class Resolve
{
    public const ulong NoXdev = 0x01, NoMagicLinks = 0x02, NoSymlinks = 0x04, Beneath = 0x08, InRoot = 0x10;
}

internal static class At
{
    public const int FdCwd = -100, SymlinkNoFollow = 0x100, RemoveDir = 0x200, EmptyPath = 0x1000;
}

internal static class Errno
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, EAGAIN = 11, EACCES = 13, EEXIST = 17, EXDEV = 18,
        ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40;

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

internal static class FileType
{
    public const int Mask = 0xF000, Socket = 0xC000, Link = 0xA000, Regular = 0x8000, Block = 0x6000,
        Directory = 0x4000, Char = 0x2000, Fifo = 0x1000;
}

internal static class Ms
{
    public const ulong RdOnly = 1, NoSuid = 2, NoDev = 4, NoExec = 8, Remount = 32, NoSymFollow = 256,
        Bind = 4096, Move = 8192, Rec = 16384, Private = 1 << 18, Slave = 1 << 19;
    public const int MntDetach = 2;
}

internal static class CloneFlags
{
    public const int Fs = 0x200, NewNs = 0x20000, NewUts = 0x04000000, NewIpc = 0x08000000, NewPid = 0x20000000, NewNet = 0x40000000;
}

internal static class Pr
{
    public const int SetSeccomp = 22, SeccompModeFilter = 2, CapBsetDrop = 24, SetNoNewPrivs = 38, CapAmbient = 47, CapAmbientClearAll = 4;
}

internal static class FsMagic
{
    public const long Tmpfs = 0x01021994, Proc = 0x9fa0;
}

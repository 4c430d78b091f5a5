using System.Runtime.InteropServices;

namespace Gantry.Host;

/// <summary>The part of statx(2) that Gantry looks at.</summary>
internal readonly record struct FileStatus(int Mode, ulong Size, ulong Inode, uint DevMajor, uint DevMinor, uint RdevMajor, uint RdevMinor,
    uint Uid = 0, uint Gid = 0)
{
    public int Type => Mode & FileType.Mask;
    public int Permissions => Mode & 0xFFF; // rwx for all three plus setuid, setgid, sticky
    public bool IsDirectory => Type == FileType.Directory;
    public bool IsRegular => Type == FileType.Regular;
    public bool IsSymlink => Type == FileType.Link;
    public bool IsCharDevice => Type == FileType.Char;
    public bool SameFileAs(FileStatus other) => Inode == other.Inode && DevMajor == other.DevMajor && DevMinor == other.DevMinor;

    internal static FileStatus From(in Interop.Statx s) =>
        new(s.Mode, s.Size, s.Ino, s.DevMajor, s.DevMinor, s.RdevMajor, s.RdevMinor, s.Uid, s.Gid);

    /// <summary>lstat of a host path (discovery and the simulator; never inside a container root). False when missing.</summary>
    public static bool TryLstat(string path, out FileStatus status)
    {
        const int atFdCwd = -100, atSymlinkNoFollow = 0x100;
        var ok = Interop.StatxCall(atFdCwd, path, atSymlinkNoFollow, Interop.StatxBasicStats, out var s) == 0;
        status = ok ? From(s) : default;
        return ok;
    }

    /// <summary>Creates a character device node at a host path; returns errno (0 on success).</summary>
    public static int MakeCharDevice(string path, uint major, uint minor, uint permissions)
    {
        var dev = ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
                  ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
        return Interop.Mknod(path, (uint)FileType.Char | permissions, dev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Gantry.Host.Interop;

namespace Gantry.Host;

/// <summary>What lstat says about a path: type and permission bits, owner, and for device nodes major/minor.</summary>
internal readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, uint RdevMajor, uint RdevMinor)
{
    const uint TypeMask = 0xF000, CharDevice = 0x2000, Regular = 0x8000, Directory = 0x4000, Symlink = 0xA000;

    public bool IsCharDevice => (Mode & TypeMask) == CharDevice;
    public bool IsRegularFile => (Mode & TypeMask) == Regular;
    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsSymlink => (Mode & TypeMask) == Symlink;
    public uint Permissions => Mode & 0xFFF;

    /// <summary>lstat (never follows the last symlink); false when the path does not exist or cannot be read.</summary>
    public static unsafe bool TryLstat(string path, out FileStatus status)
    {
        var buf = stackalloc byte[256];
        if (StatxInterop.Statx(StatxInterop.AtFdCwd, path, StatxInterop.AtSymlinkNoFollow, StatxInterop.StatxBasicStats, buf) != 0)
        {
            status = default;
            return false;
        }
        var s = new ReadOnlySpan<byte>(buf, 256);
        status = new FileStatus(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            RdevMajor: BinaryPrimitives.ReadUInt32LittleEndian(s[128..]),
            RdevMinor: BinaryPrimitives.ReadUInt32LittleEndian(s[132..]));
        return true;
    }

    /// <summary>Creates a character device node; returns errno (0 on success).</summary>
    public static int MakeCharDevice(string path, uint major, uint minor, uint permissions)
    {
        var dev = ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
                  ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);
        return StatxInterop.Mknod(path, CharDevice | permissions, dev) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}

using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // struct statx is 256 bytes on every architecture; only the fields Gantry reads are named.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct Statx
    {
        [FieldOffset(0)] public uint Mask;
        [FieldOffset(8)] public ulong Attributes;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(128)] public uint RdevMajor;
        [FieldOffset(132)] public uint RdevMinor;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    internal const uint StatxBasicStats = 0x7ff;
    internal const ulong StatxAttrImmutable = 0x10;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int StatxCall(int dirfd, string path, int flags, uint mask, out Statx buffer);

    [LibraryImport("libc", EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mknod(string path, uint mode, ulong dev);

    // struct statfs: f_type is the first word on the 64-bit targets Gantry builds for; 120 bytes covers it all.
    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    internal static unsafe partial int FStatFs(int fd, byte* buffer);
}

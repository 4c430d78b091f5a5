using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // struct statx with the identity and modification time of a file (the shim's fast-path cache compares them).
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct StatxTimes
    {
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(112)] public long MtimeSec;
        [FieldOffset(120)] public uint MtimeNsec;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int StatxTimesCall(int dirfd, string path, int flags, uint mask, out StatxTimes buffer);

    /// <summary>statx(2) of a host path, following links, for its times; 0 or an errno.</summary>
    internal static int StatTimes(string path, out StatxTimes status) =>
        StatxTimesCall(At.FdCwd, path, 0, StatxBasicStats, out status) == 0 ? 0 : Marshal.GetLastPInvokeError();
}

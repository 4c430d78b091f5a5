namespace Gantry.Host;

/// <summary>What says a file changed without reading it: identity, size, modification time, owner and mode.</summary>
internal readonly record struct FileStamp(uint DevMajor, uint DevMinor, ulong Inode, ulong Size, long MtimeSec, uint MtimeNsec, uint Uid, int Mode)
{
    public override string ToString() => $"{DevMajor}:{DevMinor}:{Inode}:{Size}:{MtimeSec}.{MtimeNsec:D9}";

    /// <summary>lstat(2) of a host path (a link is stamped, not followed). False when it cannot be stat'ed.</summary>
    public static bool TryLstat(string path, out FileStamp stamp) => TryStat(path, At.SymlinkNoFollow, out stamp);

    /// <summary>stat(2) of a host path, following links.</summary>
    public static bool TryStat(string path, out FileStamp stamp) => TryStat(path, 0, out stamp);

    static bool TryStat(string path, int flags, out FileStamp stamp)
    {
        var ok = Interop.StatxTimesCall(At.FdCwd, path, flags, Interop.StatxBasicStats, out var s) == 0;
        stamp = ok ? new FileStamp(s.DevMajor, s.DevMinor, s.Ino, s.Size, s.MtimeSec, s.MtimeNsec, s.Uid, s.Mode) : default;
        return ok;
    }
}

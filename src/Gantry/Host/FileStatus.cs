namespace Gantry.Host;

/// <summary>The part of statx(2) that Gantry looks at.</summary>
internal readonly record struct FileStatus(int Mode, ulong Size, ulong Inode, uint DevMajor, uint DevMinor, uint RdevMajor, uint RdevMinor)
{
    public int Type => Mode & FileType.Mask;
    public int Permissions => Mode & 0xFFF; // rwx for all three plus setuid, setgid, sticky
    public bool IsDirectory => Type == FileType.Directory;
    public bool IsRegular => Type == FileType.Regular;
    public bool IsSymlink => Type == FileType.Link;
    public bool IsCharDevice => Type == FileType.Char;
    public bool SameFileAs(FileStatus other) => Inode == other.Inode && DevMajor == other.DevMajor && DevMinor == other.DevMinor;
}

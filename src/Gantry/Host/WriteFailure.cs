using System.Text.RegularExpressions;

namespace Gantry.Host;

/// <summary>
/// Why a write of a user's file failed, in words that name the user's path and the real cause: never the name
/// of the temp file the write went through, nor .NET's exception text when a better cause can be found.
/// </summary>
internal static partial class WriteFailure
{
    const int Enoent = 2, Eacces = 13, Enospc = 28, Erofs = 30, Edquot = 122;

    /// <summary>The cause, as a clause to follow "cannot write PATH: ".</summary>
    public static string Cause(string path, Exception e)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) return "it is a directory";
        var dir = Path.GetDirectoryName(full) ?? "/";
        if (!Directory.Exists(dir))
        {
            for (var up = dir; up is not null; up = Path.GetDirectoryName(up))
                if (File.Exists(up)) return $"{up} is not a directory";
            return $"the directory {dir} does not exist";
        }
        if (IsImmutable(full)) return $"{full} is immutable (chattr +i); remove the attribute with chattr -i to change it";
        if (IsImmutable(dir)) return $"the directory {dir} is immutable (chattr +i); no file can be created or replaced in it";
        if (KernelFileSystem(dir) is { } fs) return $"{dir} is on {fs}, which takes no files";
        var errno = e is UnauthorizedAccessException ? Eacces : e.HResult;
        return errno switch
        {
            Eacces => $"permission denied in {dir}",
            Enospc => "no space left on the device",
            Edquot => "the disk quota is exceeded",
            Erofs => $"{dir} is on a read-only file system",
            Enoent => $"{dir} does not take new files",
            _ => Scrub(e.Message, full),
        };
    }

    /// <summary>The exception's text with any temp file name of ours replaced by the file it stood for.</summary>
    public static string Scrub(string message, string path) =>
        TempName().Replace(message, m => Path.Combine(m.Groups["dir"].Value, m.Groups["name"].Value)).Replace("'" + path + "'", path);

    [GeneratedRegex(@"(?<dir>/[^'""\s]*?)?/?\.(?<name>[^/'""\s]+)\.[0-9a-f]{8}\.tmp")]
    private static partial Regex TempName();

    static bool IsImmutable(string path) =>
        Interop.StatxCall(-100, path, 0x100 /* AT_SYMLINK_NOFOLLOW */, Interop.StatxBasicStats, out var st) == 0
        && (st.Attributes & Interop.StatxAttrImmutable) != 0;

    static unsafe string? KernelFileSystem(string dir)
    {
        var fd = Interop.OpenAt(-100, dir, 0x10000 | 0x80000 /* O_DIRECTORY | O_CLOEXEC */, 0);
        if (fd < 0) return null;
        try
        {
            var buffer = stackalloc byte[120];
            if (Interop.FStatFs(fd, buffer) != 0) return null;
            return *(long*)buffer switch
            {
                0x9fa0 => "procfs",
                0x62656572 => "sysfs",
                0x64626720 => "debugfs",
                0x27e0eb => "cgroupfs",
                0x63677270 => "cgroup2fs",
                _ => null,
            };
        }
        finally { Interop.Close(fd); }
    }
}

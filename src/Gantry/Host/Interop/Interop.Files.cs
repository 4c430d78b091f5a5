using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MkdirAt(int dirfd, string path, int mode);

    [LibraryImport("libc", EntryPoint = "symlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SymlinkAt(string target, int dirfd, string linkPath);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int LinkAt(int oldDirfd, string oldPath, int newDirfd, string newPath, int flags);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RenameAt(int oldDirfd, string oldPath, int newDirfd, string newPath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int UnlinkAt(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial nint ReadLinkAt(int dirfd, string path, byte* buffer, nuint size);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chmod(string path, int mode);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int FChmod(int fd, int mode);
}

using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    internal static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "chroot", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chroot(string path);

    [LibraryImport("libc", EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Chdir(string path);

    [LibraryImport("libc", EntryPoint = "fchdir", SetLastError = true)]
    internal static partial int FChdir(int fd);

    // pivot_root has no glibc wrapper.
    internal static long SysPivotRoot => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 41 : 155;
}

using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // setns(2) on the calling thread only; CLONE_NEWNS also needs a private fs_struct (unshare(CLONE_FS) first).
    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nsType);

    [LibraryImport("libc", EntryPoint = "getppid")]
    internal static partial int GetPpid();
}

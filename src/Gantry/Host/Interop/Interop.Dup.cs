using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    const int FDupFd = 0;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlInt(int fd, int cmd, int arg);

    /// <summary>A copy of fd (numbered 3 or above) that a child process inherits; -errno on failure.</summary>
    internal static int DupInheritable(int fd) => FcntlInt(fd, FDupFd, 3) is var r and >= 0 ? r : -Marshal.GetLastPInvokeError();
}

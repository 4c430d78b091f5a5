using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // open_tree(2) and move_mount(2) (Linux 5.2) have no wrapper in older glibc; the same numbers on every architecture.
    internal const long SysOpenTree = 428, SysMoveMount = 429;
    internal const uint OpenTreeClone = 1, MoveMountFromEmptyPath = 0x4, MoveMountToEmptyPath = 0x40;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial long SyscallOpenTree(long number, int dirfd, byte* path, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial long SyscallMoveMount(long number, int fromDirfd, byte* fromPath, int toDirfd, byte* toPath, uint flags);
}

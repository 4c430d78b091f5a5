using System.Runtime.InteropServices;

namespace Gantry.Host;

// Credentials of the calling thread only. glibc's setresuid, setresgid and setgroups change every thread of the
// process (it signals each one); the raw system calls change the caller's, which is what a thread working for one
// container needs. setfsuid/setfsgid are per thread in glibc too, but go through the same raw call for clarity.
internal static partial class Interop
{
    static readonly bool Arm64Credentials = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
    internal static long SysSetgroups => Arm64Credentials ? 159 : 116;
    internal static long SysSetresuid => Arm64Credentials ? 147 : 117;
    internal static long SysSetresgid => Arm64Credentials ? 149 : 119;
    internal static long SysSetfsuid => Arm64Credentials ? 151 : 122;
    internal static long SysSetfsgid => Arm64Credentials ? 152 : 123;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static partial long SyscallIds(long number, nuint a1, nuint a2, nuint a3);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial long SyscallGroups(long number, nuint count, uint* groups);
}

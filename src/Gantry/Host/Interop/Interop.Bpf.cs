using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // bpf(2) has no glibc wrapper; its number differs between x86-64 and arm64.
    internal static long SysBpf => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial long Syscall3(long number, long a1, void* a2, nuint a3);

    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit { public ulong Current; public ulong Maximum; }

    internal const int RLimitMemlock = 8;

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    internal static partial int SetRLimit(int resource, in RLimit limit);
}

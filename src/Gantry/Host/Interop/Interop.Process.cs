using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "execveat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ExecveAt(int dirfd, string path, string?[] argv, string?[] envp, int flags);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [StructLayout(LayoutKind.Sequential)]
    internal struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CapData { public uint Effective; public uint Permitted; public uint Inheritable; }

    internal const uint CapVersion3 = 0x20080522;

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    internal static unsafe partial int CapGet(CapHeader* header, CapData* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    internal static unsafe partial int CapSet(CapHeader* header, CapData* data);

    [LibraryImport("libc", EntryPoint = "_exit")]
    internal static partial void Exit(int status);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();
}

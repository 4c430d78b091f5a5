using System.Runtime.InteropServices;

namespace Gantry.Host;

// Starting a child that runs beside this process (the runtime shim's runc) without System.Diagnostics.Process,
// whose SIGCHLD handling, pipes and reaping assume children it owns; and waiting for it through a pidfd.
internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static unsafe partial int PosixSpawnCall(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static unsafe partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static unsafe partial int FileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static unsafe partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    internal static unsafe partial int WaitPid(int pid, int* status, int options);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long PidfdOpenCall(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd { public int Fd; public short Events; public short Returned; }

    internal const short PollIn = 1;

    /// <summary>pidfd_open(2); -errno on failure.</summary>
    internal static int PidfdOpen(int pid)
    {
        var r = PidfdOpenCall(434, pid, 0); // the same number on every architecture
        return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
    }

    /// <summary>posix_spawn(3) of path with argv, from the calling thread (its namespaces, root and directory); the
    /// pid, or -errno. envp null passes this process's C environment (what it was started with: .NET keeps its own
    /// copy for Environment.SetEnvironmentVariable). output, when not negative, becomes the child's stdout and stderr.</summary>
    internal static unsafe int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string>? envp = null, int output = -1)
    {
        var strings = new List<nint>();
        byte** Block(IReadOnlyList<string> items)
        {
            var block = (byte**)Marshal.AllocCoTaskMem(sizeof(nint) * (items.Count + 1));
            strings.Add((nint)block);
            for (var i = 0; i < items.Count; i++)
            {
                var a = Marshal.StringToCoTaskMemUTF8(items[i]);
                strings.Add(a);
                block[i] = (byte*)a;
            }
            block[items.Count] = null;
            return block;
        }
        var actions = stackalloc byte[256]; // posix_spawn_file_actions_t is 80 bytes on glibc
        var useActions = output >= 0;
        try
        {
            var p = Marshal.StringToCoTaskMemUTF8(path);
            strings.Add(p);
            if (useActions)
            {
                FileActionsInit(actions);
                FileActionsAddDup2(actions, output, 1);
                FileActionsAddDup2(actions, output, 2);
            }
            int pid;
            var r = PosixSpawnCall(&pid, (byte*)p, useActions ? actions : null, null, Block(argv), envp is null ? Environ() : Block(envp));
            return r == 0 ? pid : -r;
        }
        finally
        {
            if (useActions) FileActionsDestroy(actions);
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    /// <summary>Waits for a child started by Spawn: its exit code, 128 + the signal that killed it.</summary>
    internal static unsafe int WaitForExit(int pid)
    {
        int status, r;
        do r = WaitPid(pid, &status, 0);
        while (r < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (r < 0) throw new SyscallException("waitpid", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), Marshal.GetLastPInvokeError());
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    static unsafe byte** Environ()
    {
        var libc = NativeLibrary.Load("libc.so.6");
        return *(byte***)NativeLibrary.GetExport(libc, "environ");
    }
}

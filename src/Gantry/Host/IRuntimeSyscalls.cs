namespace Gantry.Host;

/// <summary>A host device node as stat(2) sees it: "c", "b" or "p", and its numbers.</summary>
internal readonly record struct DeviceNumber(string Type, long Major, long Minor);

/// <summary>
/// The OS seam of the runtime shim: stat a device node, replace the process with the low-level runtime, and what
/// a served create needs (run the runtime as a child, wait for it beside the hook socket). Results follow ISyscalls:
/// &gt;= 0 on success, -errno on failure. The defaults describe a host where the shim cannot serve hooks (no
/// executable path), so a fake implements only what its test needs.
/// </summary>
internal interface IRuntimeSyscalls
{
    /// <summary>stat(2) following links; -ENODEV when the path is not a char/block device or a FIFO.</summary>
    int StatDevice(string path, out DeviceNumber device);
    /// <summary>execv(2): this process's own environment goes along unchanged. Returns only on failure.</summary>
    int Exec(string path, string[] argv);
    /// <summary>This executable, whose hooks the shim may serve and beside which its helpers are; null: serve none.</summary>
    string? ExecutablePath => null;
    /// <summary>realpath(3); null when the path does not resolve.</summary>
    string? RealPath(string path) => null;
    int ProcessId => 0;
    /// <summary>posix_spawn(3) with this process's environment; the child's pid.</summary>
    int Spawn(string path, IReadOnlyList<string> argv) => -Errno.ENOSYS;
    /// <summary>A descriptor that becomes readable when pid exits.</summary>
    int PidfdOpen(int pid) => -Errno.ENOSYS;
    /// <summary>waitpid(2) until pid exits: its exit code, 128 + the signal when one killed it.</summary>
    int WaitForExit(int pid) => 1;
    void Close(int fd) { }
    /// <summary>kill(2).</summary>
    int Kill(int pid, int signal) => -Errno.ENOSYS;
    /// <summary>_exit(2): ends the process without .NET's shutdown (nothing is buffered by then).</summary>
    void Exit(int code) => Environment.Exit(code);
}

internal sealed class LinuxRuntimeSyscalls : IRuntimeSyscalls
{
    public static LinuxRuntimeSyscalls Instance { get; } = new();
    const int AtFdCwd = -100, ENoDev = 19;

    public int StatDevice(string path, out DeviceNumber device)
    {
        device = default;
        var r = LinuxSyscalls.Instance.Statx(AtFdCwd, path, 0, out var s);
        if (r < 0) return r;
        string? type = s.Type switch { FileType.Char => "c", FileType.Block => "b", FileType.Fifo => "p", _ => null };
        if (type is null) return -ENoDev;
        device = new DeviceNumber(type, s.RdevMajor, s.RdevMinor);
        return 0;
    }

    public int Exec(string path, string[] argv)
    {
        string?[] a = [.. argv, null];
        Interop.Execv(path, a);
        return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    }

    public string? ExecutablePath => Environment.ProcessPath;
    public string? RealPath(string path) => Interop.RealPath(path);
    public int ProcessId => Interop.GetPid();
    public int Spawn(string path, IReadOnlyList<string> argv) => Interop.Spawn(path, argv);
    public int PidfdOpen(int pid) => Interop.PidfdOpen(pid);
    public int WaitForExit(int pid) => Interop.WaitForExit(pid);
    public void Close(int fd) => Interop.Close(fd);
    public int Kill(int pid, int signal) => Interop.Kill(pid, signal) == 0 ? 0 : -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    public void Exit(int code) => Interop.Exit(code);
}

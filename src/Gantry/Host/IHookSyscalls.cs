namespace Gantry.Host;

/// <summary>
/// The OS seam of nvidia-container-runtime-hook: look at host files and replace the process with
/// nvidia-container-cli. Results follow ISyscalls: &gt;= 0 on success, -errno on failure.
/// </summary>
internal interface IHookSyscalls
{
    /// <summary>True for a regular file (links followed) with an execute bit.</summary>
    bool IsExecutableFile(string path);
    /// <summary>True when stat(2) succeeds.</summary>
    bool Exists(string path);
    /// <summary>execve(2) with exactly this environment. Returns only on failure.</summary>
    int Exec(string path, string[] argv, string[] envp);
}

internal sealed class LinuxHookSyscalls : IHookSyscalls
{
    public static LinuxHookSyscalls Instance { get; } = new();

    public bool IsExecutableFile(string path)
    {
        if (LinuxSyscalls.Instance.Statx(At.FdCwd, path, 0, out var s) < 0) return false;
        return s.Type == FileType.Regular && (s.Mode & 0b001_001_001) != 0;
    }

    public bool Exists(string path) => LinuxSyscalls.Instance.Statx(At.FdCwd, path, 0, out _) >= 0;

    public int Exec(string path, string[] argv, string[] envp)
    {
        Interop.ExecveAt(At.FdCwd, path, [.. argv, null], [.. envp, null], 0);
        return -System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
    }
}

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
    /// <summary>True when path (links followed) is the very file this process runs.</summary>
    bool IsThisExecutable(string path);
    /// <summary>What execve(2) does to the environment, in this process: it becomes envp (the first of a repeated
    /// name counts, as for getenv), both the C environ and .NET's copy of it.</summary>
    void ReplaceEnvironment(string[] envp);
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

    // /proc/self/exe names the running file even after an upgrade replaced the path: compared by device and inode.
    public bool IsThisExecutable(string path) =>
        LinuxSyscalls.Instance.Statx(At.FdCwd, path, 0, out var s) >= 0 &&
        LinuxSyscalls.Instance.Statx(At.FdCwd, "/proc/self/exe", 0, out var self) >= 0 && s.SameFileAs(self);

    public void ReplaceEnvironment(string[] envp)
    {
        var pairs = new List<(string Name, string Value)>();
        foreach (var entry in envp)
            if (entry.IndexOf('=') is > 0 and var eq && !pairs.Exists(p => p.Name == entry[..eq])) pairs.Add((entry[..eq], entry[(eq + 1)..]));
        Interop.ClearEnv();
        foreach (var (name, value) in pairs) Interop.SetEnv(name, value, 1);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) Environment.SetEnvironmentVariable((string)e.Key, null);
        foreach (var (name, value) in pairs) Environment.SetEnvironmentVariable(name, value);
    }
}

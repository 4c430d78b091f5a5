namespace Gantry.Host;

/// <summary>A failed system call: which call, on which path, and the errno text.</summary>
internal sealed class SyscallException(string call, string path, int errno)
    : IOException($"{call} {path}: {Host.Errno.Describe(errno)}", errno)
{
    public string Call { get; } = call;
    public string Path { get; } = path;
    public int Errno { get; } = errno;
}

namespace Gantry.Host;

/// <summary>A host device node as stat(2) sees it: "c", "b" or "p", and its numbers.</summary>
internal readonly record struct DeviceNumber(string Type, long Major, long Minor);

/// <summary>
/// The OS seam of the runtime shim: stat a device node, and replace the process with the low-level runtime.
/// Results follow ISyscalls: &gt;= 0 on success, -errno on failure.
/// </summary>
internal interface IRuntimeSyscalls
{
    /// <summary>stat(2) following links; -ENODEV when the path is not a char/block device or a FIFO.</summary>
    int StatDevice(string path, out DeviceNumber device);
    /// <summary>execv(2): this process's own environment goes along unchanged. Returns only on failure.</summary>
    int Exec(string path, string[] argv);
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
}

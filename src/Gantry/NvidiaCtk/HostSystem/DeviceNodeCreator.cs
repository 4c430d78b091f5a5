using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.NvidiaCtk.HostSystem;

// mknod + chmod 0666 for device nodes on the host; an existing path is left alone. Dry-run only says what it would do.
internal sealed class DeviceNodeCreator(bool dryRun, Log log)
{
    public void Create(CharDevice node)
    {
        if (FileStatus.TryLstat(node.Path, out _)) { log.Info($"Skipping: {node.Path} already exists"); return; }
        if (dryRun) { log.Info($"Running: mknod --mode=0666 {node.Path} c {node.Major} {node.Minor}"); return; }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(node.Path)!);
        var errno = FileStatus.MakeCharDevice(node.Path, node.Major, node.Minor, 0b110_110_110);
        if (errno != 0)
            throw new GantryException($"failed to create device node {node.Path} (c {node.Major}:{node.Minor}): {Errno(errno)}" +
                                      (errno == 1 ? "; creating device nodes needs root (CAP_MKNOD)" : ""));
        // mknod applies the umask; the driver's nodes are world read-write.
        File.SetUnixFileMode(node.Path, (UnixFileMode)0b110_110_110);
    }

    static string Errno(int errno) => errno switch
    {
        1 => "operation not permitted", 2 => "no such file or directory", 13 => "permission denied", 17 => "file exists",
        30 => "read-only file system", _ => $"errno {errno}",
    };
}

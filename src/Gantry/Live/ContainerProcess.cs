using System.Globalization;
using System.Text;
using Gantry.Host;

namespace Gantry.Live;

/// <summary>
/// The container configure works on. Supervised (--pid, an OCI prestart hook): the process is read through the
/// host's /proc and the rootfs is resolved inside /proc/PID/root, i.e. in the container's own mount namespace.
/// Standalone (no --pid): the parent process, read through the rootfs's /proc (the CLI runs inside the
/// container's namespaces then). StartTime tells a pid that was reused by another process apart.
/// </summary>
internal sealed record ContainerTarget(int Pid, bool Standalone, string Rootfs, ulong StartTime);

/// <summary>A failure to find or open the container; printed with the "container error:" prefix.</summary>
internal sealed class ContainerTargetException(string message) : IOException(message);

internal static class ContainerProcess
{
    const string HostProc = "/proc";

    /// <summary>Checks the process exists and records its start time.</summary>
    public static ContainerTarget Locate(ISyscalls sys, int? pid, string rootfs)
    {
        var target = new ContainerTarget(pid ?? Interop.GetPpid(), pid is null, rootfs, 0);
        using var root = OpenRootfs(sys, target with { StartTime = 0 }, checkStart: false);
        return target with { StartTime = StartTime(sys, target, root) };
    }

    /// <summary>The rootfs as a confined root. In supervised mode it is resolved inside the process's own root.</summary>
    public static ContainerRoot OpenRootfs(ISyscalls sys, ContainerTarget t, bool checkStart = true)
    {
        ContainerRoot root;
        if (t.Standalone)
        {
            root = Open(() => ContainerRoot.Open(sys, t.Rootfs), t.Rootfs);
        }
        else
        {
            var procRootPath = $"{HostProc}/{t.Pid}/root";
            var fd = sys.OpenAt(At.FdCwd, procRootPath, O.Path | O.Directory);
            if (fd < 0) throw new ContainerTargetException($"stat failed: {HostProc}/{t.Pid}: {Describe(-fd == Errno.ENOTDIR ? Errno.ENOENT : -fd)}");
            using var processRoot = ContainerRoot.Adopt(sys, procRootPath, new OwnedFd(sys, fd));
            root = Open(() => ContainerRoot.Adopt(sys, t.Rootfs, processRoot.OpenDirectory(t.Rootfs)), t.Rootfs);
        }
        if (checkStart && StartTime(sys, t, root) != t.StartTime)
        {
            root.Dispose();
            throw new ContainerTargetException($"process {t.Pid} has exited (its pid now belongs to another process)");
        }
        return root;
    }

    /// <summary>An fd on the process's mount namespace. Standalone, /proc/PID must be a real procfs inside the rootfs.</summary>
    public static OwnedFd OpenMountNamespace(ISyscalls sys, ContainerTarget t, ContainerRoot rootfs)
    {
        if (!t.Standalone)
        {
            var path = $"{HostProc}/{t.Pid}/ns/mnt";
            return new OwnedFd(sys, Check(sys.OpenAt(At.FdCwd, path, O.RdOnly), path));
        }
        using var dir = ProcDirectory(sys, t, rootfs);
        return new OwnedFd(sys, Check(sys.OpenAt(dir.Value, "ns/mnt", O.RdOnly), $"{t.Rootfs}/proc/{t.Pid}/ns/mnt"));
    }

    /// <summary>
    /// The uid and gid owning /proc/PID, i.e. the container process's host ids: what the files made in the rootfs
    /// are owned by, so that a container in a user namespace owns them too.
    /// </summary>
    /// <summary>
    /// Our ids of the container's root when its process is in a user namespace other than ours (and its uid_map is
    /// not the initial namespace's identity map), else null. Files made for such a container must belong to them: the
    /// filesystems mounted in its namespace (runc's /dev tmpfs) refuse an owner the namespace does not map.
    /// </summary>
    public static (uint Uid, uint Gid)? MappedRoot(ContainerTarget t)
    {
        if (t.Standalone) return null;
        // Only a namespace other than ours: read from inside the same namespace, the map is relative to its parent
        // (a rootless engine's own namespace, where we are root already).
        try
        {
            if (new FileInfo($"{HostProc}/{t.Pid}/ns/user").LinkTarget == new FileInfo($"{HostProc}/self/ns/user").LinkTarget) return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        return RootOf($"{HostProc}/{t.Pid}/uid_map") is { } uid && RootOf($"{HostProc}/{t.Pid}/gid_map") is { } gid ? (uid, gid) : null;
    }

    static uint? RootOf(string mapPath)
    {
        try
        {
            foreach (var line in File.ReadAllLines(mapPath))
            {
                var f = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (f.Length != 3 || f[0] != "0") continue;
                if (f[1] == "0" && f[2] == "4294967295") return null; // the initial namespace
                return uint.TryParse(f[1], out var host) ? host : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    public static (uint Uid, uint Gid) Owner(ISyscalls sys, ContainerTarget t, ContainerRoot rootfs)
    {
        if (t.Standalone)
        {
            using var dir = ProcDirectory(sys, t, rootfs);
            Check(sys.Statx(dir.Value, "", At.EmptyPath, out var st), $"{t.Rootfs}/proc/{t.Pid}");
            return (st.Uid, st.Gid);
        }
        var path = $"{HostProc}/{t.Pid}";
        Check(sys.Statx(At.FdCwd, path, 0, out var status), path);
        return (status.Uid, status.Gid);
    }

    /// <summary>Field 22 of /proc/PID/stat (clock ticks since boot): the same pid with another start time is another process.</summary>
    public static ulong StartTime(ISyscalls sys, ContainerTarget t, ContainerRoot rootfs)
    {
        string text;
        if (t.Standalone)
        {
            using var dir = ProcDirectory(sys, t, rootfs);
            using var fd = new OwnedFd(sys, Check(sys.OpenAt(dir.Value, "stat", O.RdOnly), $"{t.Rootfs}/proc/{t.Pid}/stat"));
            text = ReadSmall(sys, fd);
        }
        else
        {
            try { text = File.ReadAllText($"{HostProc}/{t.Pid}/stat"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ContainerTargetException($"stat failed: {HostProc}/{t.Pid}: no such file or directory");
            }
        }
        return ParseStartTime(text) ?? throw new ContainerTargetException($"cannot read the start time of process {t.Pid}");
    }

    internal static ulong? ParseStartTime(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0) return null;
        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    // Standalone: the image could plant a fake proc/PID with a symlink at ns/mnt; only a real procfs is trusted.
    static OwnedFd ProcDirectory(ISyscalls sys, ContainerTarget t, ContainerRoot rootfs)
    {
        var path = $"/proc/{t.Pid}";
        if (!rootfs.TryOpen(path, O.Path | O.Directory, out var dir, out var errno))
            throw new ContainerTargetException($"stat failed: {t.Rootfs}{path}: {Describe(errno)}");
        if (sys.FsType(dir!.Value, out var type) < 0 || type != FsMagic.Proc)
        {
            dir.Dispose();
            throw new ContainerTargetException($"{t.Rootfs}/proc is not a procfs; mount the container's /proc there or give --pid");
        }
        return dir;
    }

    static ContainerRoot Open(Func<ContainerRoot> open, string rootfs)
    {
        try { return open(); }
        catch (SyscallException e) { throw new ContainerTargetException($"open failed: {rootfs}: {Describe(e.Errno)}"); }
        catch (ArgumentException) { throw new ContainerTargetException($"open failed: {rootfs}: invalid argument"); }
    }

    static string ReadSmall(ISyscalls sys, OwnedFd fd)
    {
        var buffer = new byte[4096];
        var n = Check(sys.Read(fd.Value, buffer), "read");
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    static int Check(int r, string path) => r >= 0 ? r : throw new ContainerTargetException($"open failed: {path}: {Describe(-r)}");

    /// <summary>strerror text, lower-cased as the original prints it after the last colon.</summary>
    public static string Describe(int errno) => Errno.Describe(errno).ToLowerInvariant();
}

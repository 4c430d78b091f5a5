using Gantry.Host;

namespace Gantry.Discovery;

// Binaries, firmware and IPC sockets of the driver, each located under the driver root.
internal static class DriverFiles
{
    static readonly string[] DefaultPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>First executable regular file per name in $PATH (plus the usual dirs), each dir under the driver root.</summary>
    public static List<string> Binaries(HostRoots roots, IEnumerable<string> names)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(DefaultPath).Distinct().ToList();
        var found = new List<string>();
        foreach (var name in names)
            foreach (var d in dirs)
            {
                var p = roots.InDriverRoot(Path.Combine(d, name));
                var real = DriverRootPath.ResolveFile(roots.DriverRoot, p);
                if (real is null || !File.Exists(real)) continue;
                if ((File.GetUnixFileMode(real) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0) continue;
                found.Add(p);
                break;
            }
        return found;
    }

    /// <summary>GSP firmware: nvidia/VERSION/gsp*.bin in the kernel's firmware search directories.</summary>
    public static List<string> Firmware(HostRoots roots, string version)
    {
        var dirs = new List<string>();
        var custom = roots.InSys("module/firmware_class/parameters/path");
        if (File.Exists(custom) && File.ReadAllText(custom).Trim() is { Length: > 0 } c) dirs.Add(c);
        var release = KernelRelease();
        if (release is not null) dirs.Add($"/lib/firmware/updates/{release}");
        dirs.Add("/lib/firmware/updates");
        if (release is not null) dirs.Add($"/lib/firmware/{release}");
        dirs.Add("/lib/firmware");
        var found = new List<string>();
        foreach (var d in dirs)
        {
            var dir = roots.InDriverRoot(Path.Combine(d, "nvidia", version));
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
                if (Glob.Match("gsp*.bin", Path.GetFileName(f)) && !found.Contains(f)) found.Add(f);
        }
        return found;
    }

    static string? KernelRelease()
    {
        try { return File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return null; }
    }

    /// <summary>The persistence daemon's and fabric manager's sockets, under /run first, then /var/run.</summary>
    public static List<string> IpcSockets(HostRoots roots)
    {
        var found = new List<string>();
        foreach (var sock in new[] { "/nvidia-persistenced/socket", "/nvidia-fabricmanager/socket" })
            foreach (var run in new[] { "/run", "/var/run" })
            {
                var p = roots.InDriverRoot(run + sock);
                if (FileStatus.TryLstat(p, out var st) && !st.IsDirectory) { found.Add(p); break; }
            }
        return found;
    }
}

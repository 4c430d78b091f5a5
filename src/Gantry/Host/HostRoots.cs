namespace Gantry.Host;

// Every file Gantry reads on the host goes through one of these roots, so a simulated host or a driver
// container (--driver-root=/run/nvidia/driver) looks the same to the code as a plain "/" host.
internal sealed record HostRoots
{
    public string DriverRoot { get; }
    public string DevRoot { get; }
    public string ProcRoot { get; }
    public string SysRoot { get; }

    public HostRoots(string driverRoot, string? devRoot = null, string? procRoot = null, string? sysRoot = null)
    {
        DriverRoot = Normalize(driverRoot);
        DevRoot = Normalize(string.IsNullOrEmpty(devRoot) ? DriverRoot : devRoot);
        // A driver root that carries its own /proc/driver/nvidia (a simulated host) answers for procfs too;
        // a driver container's root does not, and the host's /proc is the truth then.
        ProcRoot = Normalize(procRoot ?? (DriverRoot != "/" && Directory.Exists(System.IO.Path.Combine(DriverRoot, "proc/driver/nvidia"))
            ? System.IO.Path.Combine(DriverRoot, "proc") : "/proc"));
        SysRoot = Normalize(sysRoot ?? (DriverRoot != "/" && Directory.Exists(System.IO.Path.Combine(DriverRoot, "sys/bus"))
            ? System.IO.Path.Combine(DriverRoot, "sys") : "/sys"));
    }

    public static HostRoots Default { get; } = new("/");

    /// <summary>Host path of a path given relative to the driver root ("/usr/lib/x" → "&lt;root&gt;/usr/lib/x").</summary>
    public string InDriverRoot(string path) => Join(DriverRoot, path);
    public string InDevRoot(string path) => Join(DevRoot, path);
    public string InProc(string pathUnderProc) => Join(ProcRoot, pathUnderProc);
    public string InSys(string pathUnderSys) => Join(SysRoot, pathUnderSys);

    /// <summary>The container-side path of a host path under the driver root: the root prefix stripped.</summary>
    public string ToContainerPath(string hostPath) => StripRoot(DriverRoot, hostPath);
    public string DevToContainerPath(string hostPath) => StripRoot(DevRoot, hostPath);

    public static string Join(string root, string path)
    {
        var rel = path.TrimStart('/');
        if (root == "/") return "/" + rel;
        return rel.Length == 0 ? root : root + "/" + rel;
    }

    public static string StripRoot(string root, string hostPath)
    {
        if (root == "/") return hostPath;
        if (hostPath == root) return "/";
        if (hostPath.StartsWith(root + "/", StringComparison.Ordinal)) return hostPath[root.Length..];
        return hostPath;
    }

    static string Normalize(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }
}

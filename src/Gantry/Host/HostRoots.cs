namespace Gantry.Host;

// Every file Gantry reads on the host goes through one of these roots, so a simulated host or a driver
// container (--driver-root=/run/nvidia/driver) looks the same to the code as a plain "/" host.
internal sealed record HostRoots
{
    /// <summary>The file `gantry simulate` leaves at the top of a simulated host (its device nodes may be plain files).</summary>
    public const string SimulatedHostMarker = ".gantry-simulated-host";

    public string DriverRoot { get; }
    public string DevRoot { get; }
    public string ProcRoot { get; }
    public string SysRoot { get; }

    public HostRoots(string driverRoot, string? devRoot = null, string? procRoot = null, string? sysRoot = null)
    {
        DriverRoot = Normalize(driverRoot);
        DevRoot = Normalize(string.IsNullOrEmpty(devRoot) ? DriverRoot : devRoot);
        // A simulated host carries its own /proc and /sys (beside the driver root or the device root);
        // a driver container's root does not, and the host's /proc and /sys are the truth then.
        ProcRoot = Normalize(procRoot ?? OwnTree("proc", "driver/nvidia") ?? "/proc");
        SysRoot = Normalize(sysRoot ?? OwnTree("sys", "bus/pci") ?? "/sys");
    }

    string? OwnTree(string name, string probe)
    {
        foreach (var r in new[] { DriverRoot, DevRoot })
            if (r != "/" && Directory.Exists(System.IO.Path.Combine(r, name, probe))) return System.IO.Path.Combine(r, name);
        return null;
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

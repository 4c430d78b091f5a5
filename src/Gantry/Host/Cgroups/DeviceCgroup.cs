namespace Gantry.Host.Cgroups;

/// <summary>One device-cgroup rule: a character ('c') or block ('b') device, a major and minor
/// (<see cref="DeviceRule.Any"/> for "*"), and the access letters ("rw", "rwm").</summary>
internal readonly record struct DeviceRule(char Type, uint Major, uint Minor, string Access)
{
    public const uint Any = uint.MaxValue;
}

/// <summary>Allows devices in the device cgroup of a running process (the container's init), on cgroup v1
/// (devices.allow) or v2 (a BPF_PROG_TYPE_CGROUP_DEVICE program that keeps the engine's rules and adds ours).
/// Roots are parameters so tests can point them at a directory.</summary>
internal static class DeviceCgroup
{
    public const string DefaultCgroupRoot = "/sys/fs/cgroup";

    /// <summary>Adds <paramref name="rules"/> to the device cgroup of <paramref name="pid"/>. Throws a
    /// <see cref="IOException"/> (a <see cref="SyscallException"/> for a failed call) with a clear message
    /// when the cgroup cannot be found or changed.</summary>
    /// <param name="procRoot">Where /proc/PID/cgroup is read (a standalone caller passes the container's proc).</param>
    /// <param name="cgroupRoot">Where the host's /sys/fs/cgroup is: mount points below /sys/fs/cgroup in the mount
    /// table are taken relative to it.</param>
    /// <param name="mountInfoPath">The mount table; by default PROCROOT/self/mountinfo, our own (host) view.</param>
    public static void Allow(int pid, IReadOnlyList<DeviceRule> rules, string procRoot = "/proc", string cgroupRoot = DefaultCgroupRoot,
        string? mountInfoPath = null) =>
        Allow(pid, rules, procRoot, cgroupRoot, mountInfoPath, LinuxSyscalls.Instance, LinuxBpf.Instance);

    internal static void Allow(int pid, IReadOnlyList<DeviceRule> rules, string procRoot, string cgroupRoot, string? mountInfoPath,
        ISyscalls sys, IBpf bpf)
    {
        DeviceRules.Validate(rules);
        if (rules.Count == 0) return;
        var location = Locate(pid, procRoot, cgroupRoot, mountInfoPath);
        if (location.Version == CgroupVersion.V1)
        {
            DeviceCgroupV1.Allow(sys, location, rules);
            return;
        }
        using var dir = CgroupFiles.Open(sys, location, "", O.RdOnly | O.Directory);
        DeviceCgroupV2.Allow(bpf, dir.Value, location.HostPath, rules);
    }

    /// <summary>The device cgroup of pid: its version, its hierarchy's mount (under cgroupRoot) and its path there.</summary>
    public static DeviceCgroupLocation Locate(int pid, string procRoot = "/proc", string cgroupRoot = DefaultCgroupRoot, string? mountInfoPath = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        var cgroupFile = Path.Combine(procRoot, pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cgroup");
        var mountFile = mountInfoPath ?? Path.Combine(procRoot, "self", "mountinfo");
        var location = CgroupLocator.Locate(ProcCgroupFile.Parse(Read(cgroupFile), cgroupFile),
            MountInfo.Parse(Read(mountFile), mountFile), cgroupFile, mountFile);
        return location with { MountPoint = Rebase(location.MountPoint, cgroupRoot) };
    }

    static string Rebase(string mountPoint, string cgroupRoot)
    {
        if (cgroupRoot.TrimEnd('/') == DefaultCgroupRoot) return mountPoint;
        if (mountPoint == DefaultCgroupRoot) return cgroupRoot;
        return mountPoint.StartsWith(DefaultCgroupRoot + "/", StringComparison.Ordinal)
            ? Path.Combine(cgroupRoot, mountPoint[(DefaultCgroupRoot.Length + 1)..]) : mountPoint;
    }

    static string Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file (has the process exited?)" : e.Message;
            throw new DeviceCgroupException($"cannot read {path}: {why}", e);
        }
    }
}

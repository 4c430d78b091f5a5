using Gantry.Host;
using Gantry.Host.Cgroups;
using Gantry.Tests.Support;

namespace Gantry.Tests.Host.Cgroups;

/// <summary>A fresh cgroup (gantry-test-RANDOM) under a real hierarchy's mount, for tests as root. Dispose moves
/// what is left inside back to the mount's root cgroup and removes the directory (programs attached to it go with it).</summary>
internal sealed class KernelCgroup : IDisposable
{
    public string Mount { get; }
    public string Name { get; } = "gantry-test-" + RandomName.Next();
    public string Path => System.IO.Path.Combine(Mount, Name);

    public KernelCgroup(string mount)
    {
        Mount = mount;
        Directory.CreateDirectory(Path);
    }

    /// <summary>Runs `sh -c script` after the shell moved itself into this cgroup; stdout and stderr together.</summary>
    public string RunInside(string script)
    {
        var r = ProcessRunner.Run("sh", ["-c", $"echo $$ > '{Path}/cgroup.procs' || exit 99; {script}"], timeout: TimeSpan.FromSeconds(20));
        Assert.True(r.ExitCode != 99, "could not join " + Path + ": " + r.Combined);
        return r.Combined;
    }

    public void Add(int pid) => File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        for (var attempt = 0; attempt < 50 && Directory.Exists(Path); attempt++)
        {
            try
            {
                foreach (var pid in File.ReadAllLines(System.IO.Path.Combine(Path, "cgroup.procs")).Where(l => l.Length > 0))
                    try { File.WriteAllText(System.IO.Path.Combine(Mount, "cgroup.procs"), pid); } catch (IOException) { }
                Directory.Delete(Path); // rmdir: a cgroup's control files are not real files
            }
            catch (IOException) { Thread.Sleep(20); } // EBUSY while an exiting task is still counted
        }
    }

    /// <summary>The first cgroup2 mount of this process, or null.</summary>
    public static string? UnifiedMount() =>
        MountInfo.Parse(File.ReadAllText("/proc/self/mountinfo"), "/proc/self/mountinfo").FirstOrDefault(m => m.FsType == "cgroup2")?.MountPoint;

    public const string V1DevicesMount = "/sys/fs/cgroup/devices";
}

/// <summary>A root test on a real cgroup hierarchy, skipped with the exact reason when this kernel lacks it.</summary>
internal sealed class CgroupFactAttribute : FactAttribute
{
    public CgroupFactAttribute(CgroupVersion version)
    {
        if (!TestEnvironment.IsRoot) Skip = TestEnvironment.NeedsRoot;
        else if (version == CgroupVersion.V1 && !File.Exists(System.IO.Path.Combine(KernelCgroup.V1DevicesMount, "devices.allow")))
            Skip = $"no cgroup v1 devices controller at {KernelCgroup.V1DevicesMount} (a cgroup2-only host)";
        else if (version == CgroupVersion.V2 && WhyNoDevicePrograms() is { } why) Skip = why;
    }

    static string? WhyNoDevicePrograms()
    {
        if (KernelCgroup.UnifiedMount() is not { } mount) return "no cgroup2 filesystem is mounted";
        var fd = LinuxSyscalls.Instance.OpenAt(At.FdCwd, mount, O.RdOnly | O.Directory);
        if (fd < 0) return $"cannot open {mount}: {Errno.Describe(-fd)}";
        try
        {
            var r = LinuxBpf.Instance.QueryDevicePrograms(fd, out _);
            return r < 0 ? $"this kernel cannot attach device programs to cgroups (BPF_PROG_QUERY: {Errno.Describe(-r)}; CONFIG_CGROUP_BPF?)" : null;
        }
        finally { LinuxSyscalls.Instance.Close(fd); }
    }
}

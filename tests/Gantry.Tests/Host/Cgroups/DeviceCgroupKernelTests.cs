using System.Diagnostics;
using Gantry.Host;
using Gantry.Host.Cgroups;
using Gantry.Tests.Support;

namespace Gantry.Tests.Host.Cgroups;

// DeviceCgroup.Allow on the real kernel, as root: a v1 devices cgroup and a v2 cgroup with an engine-style
// device program, each checked by opening device nodes from a process inside the cgroup.
public sealed class DeviceCgroupKernelTests : IDisposable
{
    const string Denied = "Operation not permitted";
    readonly ScratchDirectory _dir = new();
    readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        _dir.Dispose();
    }

    Process Sleeper()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        _processes.Add(p);
        return p;
    }

    // Opens a device for reading and writing in a subshell; prints NAME-ok or the shell's error.
    static string Open(string name, string path) => $"(exec 3<>{path}) 2>&1 && echo {name}-ok; ";

    [CgroupFact(CgroupVersion.V1)]
    public void V1_a_deny_all_cgroup_gets_exactly_the_allowed_device()
    {
        using var cgroup = new KernelCgroup(KernelCgroup.V1DevicesMount);
        File.WriteAllText(Path.Combine(cgroup.Path, "devices.deny"), "a");
        var sleeper = Sleeper();
        cgroup.Add(sleeper.Id);
        Assert.Contains(Denied, cgroup.RunInside(Open("null", "/dev/null")));

        DeviceCgroup.Allow(sleeper.Id, [new('c', 1, 3, "rw")]);

        Assert.Equal("c 1:3 rw\n", File.ReadAllText(Path.Combine(cgroup.Path, "devices.list")));
        var seen = cgroup.RunInside(Open("null", "/dev/null") + Open("zero", "/dev/zero"));
        Assert.Contains("null-ok", seen);
        Assert.DoesNotContain("zero-ok", seen);
        Assert.Contains(Denied, seen);
    }

    [CgroupFact(CgroupVersion.V2)]
    public void V2_our_device_is_allowed_and_the_engines_rules_still_hold()
    {
        using var cgroup = new KernelCgroup(KernelCgroup.UnifiedMount()!);
        var bpf = LinuxBpf.Instance;
        using var cgroupFd = new OwnedFd(LinuxSyscalls.Instance, SyscallResult.Check(
            LinuxSyscalls.Instance.OpenAt(At.FdCwd, cgroup.Path, O.RdOnly | O.Directory), "open", cgroup.Path));
        // What runc would attach: /dev/null (1:3) with every access, nothing else.
        var engine = bpf.LoadDeviceProgram(DeviceFilterProgram.AllowOnly([new('c', 1, 3, "rwm")]), out var log);
        Assert.True(engine >= 0, $"loading the engine program: {Errno.Describe(-engine)} {log}");
        using var engineFd = new OwnedFd(LinuxSyscalls.Instance, engine);
        Assert.Equal(0, bpf.Attach(cgroupFd.Value, engineFd.Value, BpfFlags.AllowMulti, -1));
        Assert.Equal(0, bpf.QueryDevicePrograms(cgroupFd.Value, out var before));
        var engineId = Assert.Single(before.Ids);

        var nodes = Path.Combine(_dir.Path, "nodes");
        Directory.CreateDirectory(nodes);
        var seen = cgroup.RunInside(Open("null", "/dev/null") + Open("zero", "/dev/zero"));
        Assert.Contains("null-ok", seen);
        Assert.DoesNotContain("zero-ok", seen);
        Assert.Contains(Denied, seen);

        // On a hybrid host the process also has a v1 devices entry; keep only the unified one so the v2 path runs.
        var sleeper = Sleeper();
        cgroup.Add(sleeper.Id);
        var unified = File.ReadAllLines($"/proc/{sleeper.Id}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal));
        Assert.Equal($"0::/{cgroup.Name}", unified);
        _dir.Write($"proc/{sleeper.Id}/cgroup", unified + "\n");
        DeviceCgroup.Allow(sleeper.Id, [new('c', 1, 5, "rw")], Path.Combine(_dir.Path, "proc"), mountInfoPath: "/proc/self/mountinfo");

        Assert.Equal(0, bpf.QueryDevicePrograms(cgroupFd.Value, out var after));
        Assert.NotEqual(engineId, Assert.Single(after.Ids));
        seen = cgroup.RunInside(Open("null", "/dev/null") + Open("zero", "/dev/zero") + Open("full", "/dev/full") +
            $"mknod {nodes}/null c 1 3 && echo mknod-null-ok; mknod {nodes}/zero c 1 5 2>&1 || echo mknod-zero-denied");
        Assert.Contains("null-ok", seen);      // the engine's rule
        Assert.Contains("zero-ok", seen);      // ours
        Assert.DoesNotContain("full-ok", seen); // still denied by the engine's program
        Assert.Contains("mknod-null-ok", seen); // the engine allowed m for 1:3
        Assert.Contains("mknod-zero-denied", seen); // we allowed rw, not m
    }
}

using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;

namespace Gantry.Tests.Live;

/// <summary>A process entry under the rootfs's /proc, answering as a procfs through the fake seam.</summary>
internal static class FakeProc
{
    public static string StatLine(int pid, string comm, ulong start) =>
        $"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 {start} 8192000 100 18446744073709551615\n";

    public static void Add(TestTree t, FakeMountSyscalls sys, int pid, ulong start, bool procfs = true)
    {
        t.WriteFile($"/proc/{pid}/stat", StatLine(pid, "sleep", start));
        t.WriteFile($"/proc/{pid}/ns/mnt", "");
        if (procfs) sys.MarkProcfs(t.InRoot($"/proc/{pid}"));
    }
}

public sealed class ContainerProcessTests
{
    public static TheoryData<string, ulong?> StatLines => new()
    {
        { FakeProc.StatLine(1, "sh", 12345), 12345 },
        { FakeProc.StatLine(77, "a) b (c", 42), 42 }, // the command name may hold ")" and spaces: the last ")" ends it
        { FakeProc.StatLine(77, "", 0), 0 },
        { "1 (sh) S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0", null }, // cut before field 22
        { "1 (sh) S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 -5 8192", null },
        { "1 (sh) S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12e3 8192", null },
        { "1 sh S 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 8192", null }, // no ")" at all
        { "", null },
    };

    [Theory, MemberData(nameof(StatLines))]
    public void The_start_time_is_field_22_of_proc_pid_stat_counted_after_the_command_name(string stat, ulong? start) =>
        Assert.Equal(start, ContainerProcess.ParseStartTime(stat));

    [Fact]
    public void The_start_time_of_this_process_reads_like_the_kernel_writes_it() =>
        Assert.NotNull(ContainerProcess.ParseStartTime(File.ReadAllText("/proc/self/stat")));

    [Theory]
    [InlineData(Errno.ENOENT, "no such file or directory")]
    [InlineData(Errno.EACCES, "permission denied")]
    [InlineData(Errno.ENOTDIR, "not a directory")]
    public void Errors_are_described_in_lower_case_as_the_original_prints_them(int errno, string text) =>
        Assert.Equal(text, ContainerProcess.Describe(errno));

    // Standalone (no --pid): the parent process, read through the rootfs's own procfs.
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Standalone_the_parent_is_found_through_the_procfs_inside_the_rootfs(string kind)
    {
        using var t = new TestTree();
        var sys = new FakeMountSyscalls(Resolvers.For(kind));
        var parent = Interop.GetPpid();
        FakeProc.Add(t, sys, parent, 987654);
        var target = ContainerProcess.Locate(sys, pid: null, t.Root);
        Assert.Equal(new ContainerTarget(parent, true, t.Root, 987654), target);
        using var root = ContainerProcess.OpenRootfs(sys, target);
        Assert.Equal(t.Root, root.HostPath);
        using var ns = ContainerProcess.OpenMountNamespace(sys, target, root);
        Assert.Equal(t.InRoot($"/proc/{parent}/ns/mnt"), Readlink(ns));
        Assert.Equal(0, LinuxSyscalls.Instance.Statx(At.FdCwd, t.InRoot($"/proc/{parent}"), 0, out var st));
        Assert.Equal((st.Uid, st.Gid), ContainerProcess.Owner(sys, target, root));
    }

    static string Readlink(OwnedFd fd)
    {
        Assert.True(LinuxSyscalls.Instance.ReadLinkAt(At.FdCwd, fd.ProcPath, out var path) >= 0);
        return path;
    }

    public static TheoryData<string, string> StandaloneErrors => new()
    {
        // what is wrong with the rootfs, the message (ROOT: the rootfs, PID: the process)
        { "no proc entry", "stat failed: ROOT/proc/PID: no such file or directory" },
        { "not a procfs", "ROOT/proc is not a procfs; mount the container's /proc there or give --pid" },
        { "proc entry links to the host", "stat failed: ROOT/proc/PID: no such file or directory" },
        { "no stat", "open failed: ROOT/proc/PID/stat: no such file or directory" },
        { "garbage stat", "cannot read the start time of process PID" },
        { "missing rootfs", "open failed: ROOT/missing: no such file or directory" },
    };

    [Theory, MemberData(nameof(StandaloneErrors))]
    public void Standalone_a_rootfs_without_a_trustworthy_procfs_is_a_container_error(string wrong, string message)
    {
        using var t = new TestTree();
        var sys = new FakeMountSyscalls(LinuxSyscalls.Instance);
        const int pid = 4242;
        var rootfs = t.Root;
        switch (wrong)
        {
            case "not a procfs": FakeProc.Add(t, sys, pid, 1, procfs: false); break;
            case "proc entry links to the host": t.Symlink($"/proc/{pid}", "/proc/self"); break; // confined: the rootfs's /proc/self
            case "no stat":
                t.Mkdir($"/proc/{pid}");
                sys.MarkProcfs(t.InRoot($"/proc/{pid}"));
                break;
            case "garbage stat":
                FakeProc.Add(t, sys, pid, 1);
                File.WriteAllText(t.InRoot($"/proc/{pid}/stat"), "garbage");
                break;
            case "missing rootfs": rootfs = t.Root + "/missing"; break;
        }
        var target = new ContainerTarget(pid, true, rootfs, 1);
        var e = Assert.Throws<ContainerTargetException>(() => ContainerProcess.OpenRootfs(sys, target).Dispose());
        Assert.Equal(message.Replace("ROOT", t.Root).Replace("PID", $"{pid}"), e.Message);
    }

    [Fact]
    public void Standalone_a_missing_namespace_file_is_a_container_error()
    {
        using var t = new TestTree();
        var sys = new FakeMountSyscalls(LinuxSyscalls.Instance);
        FakeProc.Add(t, sys, 4242, 7);
        File.Delete(t.InRoot("/proc/4242/ns/mnt"));
        var target = new ContainerTarget(4242, true, t.Root, 7);
        using var root = ContainerProcess.OpenRootfs(sys, target);
        var e = Assert.Throws<ContainerTargetException>(() => ContainerProcess.OpenMountNamespace(sys, target, root));
        Assert.Equal($"open failed: {t.Root}/proc/4242/ns/mnt: no such file or directory", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_pid_that_now_belongs_to_another_process_is_refused(bool standalone)
    {
        using var t = new TestTree();
        var sys = new FakeMountSyscalls(LinuxSyscalls.Instance);
        var pid = standalone ? 4242 : Environment.ProcessId;
        if (standalone) FakeProc.Add(t, sys, pid, 1000);
        var target = standalone ? new ContainerTarget(pid, true, t.Root, 1000) : ContainerProcess.Locate(sys, pid, t.Root);
        ContainerProcess.OpenRootfs(sys, target).Dispose(); // the right start time opens
        var e = Assert.Throws<ContainerTargetException>(() => ContainerProcess.OpenRootfs(sys, target with { StartTime = target.StartTime + 1 }));
        Assert.Equal($"process {pid} has exited (its pid now belongs to another process)", e.Message);
    }

    // Supervised (--pid): read through the host's /proc; this test process stands in for the container's init.
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Supervised_the_process_is_read_through_the_hosts_proc_and_the_rootfs_inside_its_root(string kind)
    {
        using var t = new TestTree();
        var sys = Resolvers.For(kind);
        var pid = Environment.ProcessId;
        var target = ContainerProcess.Locate(sys, pid, t.Root);
        Assert.False(target.Standalone);
        Assert.Equal(ContainerProcess.ParseStartTime(File.ReadAllText($"/proc/{pid}/stat")), target.StartTime);
        using var root = ContainerProcess.OpenRootfs(sys, target);
        Assert.Equal(t.Root, root.HostPath);
        Assert.Equal(0, LinuxSyscalls.Instance.Statx(At.FdCwd, $"/proc/{pid}", 0, out var st));
        Assert.Equal((st.Uid, st.Gid), ContainerProcess.Owner(sys, target, root));
        using var ns = ContainerProcess.OpenMountNamespace(sys, target, root);
        Assert.StartsWith("mnt:[", Readlink(ns));
    }

    [Fact]
    public void Supervised_a_pid_that_does_not_exist_is_a_container_error()
    {
        using var t = new TestTree();
        var e = Assert.Throws<ContainerTargetException>(() => ContainerProcess.Locate(LinuxSyscalls.Instance, int.MaxValue, t.Root));
        Assert.Equal($"stat failed: /proc/{int.MaxValue}: no such file or directory", e.Message);
    }

    [Theory]
    [InlineData("relative/rootfs", "open failed: relative/rootfs: invalid argument")]
    [InlineData("/nonexistent-gantry-rootfs", "open failed: /nonexistent-gantry-rootfs: no such file or directory")]
    public void Standalone_a_rootfs_that_cannot_be_opened_is_a_container_error(string rootfs, string message)
    {
        var e = Assert.Throws<ContainerTargetException>(() => ContainerProcess.OpenRootfs(LinuxSyscalls.Instance, new ContainerTarget(4242, true, rootfs, 0)));
        Assert.Equal(message, e.Message);
    }
}

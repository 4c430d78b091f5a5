using Gantry.Common;
using Gantry.Edits;
using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;

namespace Gantry.Tests.Live;

// The apply thread against the fake seam: setns and unshare(CLONE_FS) are recorded, not made, so the thread stays
// in this process's mount namespace and the mounts are the fake's. What is checked is the hand-off between the
// two threads and how each failure ends.
public sealed class LiveApplyThreadTests
{
    const int Pid = 4242;
    const ulong Start = 31337;

    sealed class Fixture : IDisposable
    {
        public TestTree Tree { get; } = new();
        public FakeMountSyscalls Sys { get; }
        public StringWriter Output { get; } = new();
        public LiveApplyThread Thread { get; }
        public ContainerTarget Target { get; }
        public string Library { get; }
        public string Before { get; }

        public Fixture()
        {
            Sys = new FakeMountSyscalls(LinuxSyscalls.Instance);
            FakeProc.Add(Tree, Sys, Pid, Start);
            Tree.Mkdir("/dev");
            Library = Path.Combine(Tree.Base, "driver/libcuda.so.550.54.15");
            Directory.CreateDirectory(Path.GetDirectoryName(Library)!);
            File.WriteAllText(Library, "host libcuda");
            Thread = new LiveApplyThread(new Log(Output, LogLevel.Debug), Sys);
            Target = new ContainerTarget(Pid, Standalone: true, Tree.Root, Start);
            Before = TreeListing.Of(Tree.Root);
        }

        public LivePlan Plan() => new()
        {
            Edits = new ContainerEdits
            {
                Mounts =
                [
                    new() { ContainerPath = "/proc/driver/nvidia", Type = "tmpfs", Options = ["nosuid", "nodev", "mode=0555"] },
                    new() { HostPath = Library, ContainerPath = "/usr/lib64/libcuda.so.550.54.15", Options = ["ro", "nosuid", "nodev", "bind"] },
                ],
                DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/null", Type = "c", Major = 1, Minor = 3 }],
            },
            Files = [new() { ContainerPath = "/proc/driver/nvidia/params", Content = "ModifyDeviceFiles: 0\n", Mode = 0b100_100_100 }],
        };

        public void AssertRolledBack()
        {
            Assert.Empty(Sys.Active);
            Assert.Equal(Before, TreeListing.Of(Tree.Root));
            Tree.AssertSentinelUntouched();
        }

        public void Dispose() => Tree.Dispose();
    }

    [Fact]
    public void The_mounts_are_made_from_a_thread_that_joins_the_containers_mount_namespace_and_kept_once_the_host_step_passed()
    {
        using var f = new Fixture();
        var mountsSeenByHostStep = -1;
        var hostStepThread = -1;
        f.Thread.Apply(f.Target, f.Plan(), () =>
        {
            mountsSeenByHostStep = f.Sys.Active.Count;
            hostStepThread = Environment.CurrentManagedThreadId;
        });
        Assert.Equal(3, mountsSeenByHostStep); // every mount was in place before the device cgroup step
        Assert.Equal(Environment.CurrentManagedThreadId, hostStepThread); // which runs on the calling thread
        Assert.Equal([CloneFlags.Fs], f.Sys.UnshareCalls);
        Assert.Equal(CloneFlags.NewNs, Assert.Single(f.Sys.SetNsCalls).NsType);
        Assert.Equal(3, f.Sys.Active.Count); // committed
        Assert.Empty(f.Sys.Umounts);
    }

    [Fact]
    public void A_failed_mount_ends_as_one_mount_error_line_before_the_host_step_and_nothing_stays_mounted()
    {
        using var f = new Fixture();
        f.Sys.FailMountAt = 2;
        var called = false;
        var e = Assert.Throws<LiveApplyException>(() => f.Thread.Apply(f.Target, f.Plan(), () => called = true));
        Assert.Equal("mount error: bind mount onto /usr/lib64/libcuda.so.550.54.15: Operation not permitted", e.Message);
        Assert.False(called);
        f.AssertRolledBack();
    }

    [Fact]
    public void A_failing_host_step_is_rethrown_as_it_is_and_every_mount_is_undone()
    {
        using var f = new Fixture();
        var cgroup = new GantryException("cgroup error: cannot write devices.allow");
        var e = Assert.Throws<GantryException>(() => f.Thread.Apply(f.Target, f.Plan(), () => throw cgroup));
        Assert.Same(cgroup, e);
        Assert.Equal(3, f.Sys.Umounts.Count);
        f.AssertRolledBack();
    }

    [Fact]
    public void A_mount_namespace_that_cannot_be_joined_is_a_container_error_and_nothing_is_mounted()
    {
        using var f = new Fixture();
        f.Sys.SetNsResult = -Errno.EINVAL;
        var called = false;
        var e = Assert.Throws<LiveApplyException>(() => f.Thread.Apply(f.Target, f.Plan(), () => called = true));
        Assert.Equal($"container error: setns mount namespace of process {Pid}: Invalid argument", e.Message);
        Assert.False(called);
        Assert.Empty(f.Sys.Mounts);
        f.AssertRolledBack();
    }

    public static TheoryData<string, string> ContainerErrors => new()
    {
        // what is wrong, the message (ROOT: the rootfs)
        { "reused pid", $"container error: process {Pid} has exited (its pid now belongs to another process)" },
        { "no procfs", "container error: ROOT/proc is not a procfs; mount the container's /proc there or give --pid" },
        { "no namespace file", $"container error: open failed: ROOT/proc/{Pid}/ns/mnt: no such file or directory" },
        { "no rootfs", "container error: open failed: ROOT/gone: no such file or directory" },
    };

    // Found before any thread starts: the container itself cannot be opened.
    [Theory, MemberData(nameof(ContainerErrors))]
    public void A_container_that_cannot_be_opened_is_one_container_error_line_and_no_thread_runs(string wrong, string message)
    {
        using var f = new Fixture();
        var target = f.Target;
        switch (wrong)
        {
            case "reused pid": target = target with { StartTime = Start + 1 }; break;
            case "no procfs": f.Sys.ForgetProcfs(); break;
            case "no namespace file": File.Delete(f.Tree.InRoot($"/proc/{Pid}/ns/mnt")); break;
            case "no rootfs": target = target with { Rootfs = f.Tree.Root + "/gone" }; break;
        }
        var called = false;
        var e = Assert.Throws<LiveApplyException>(() => f.Thread.Apply(target, f.Plan(), () => called = true));
        Assert.Equal(message.Replace("ROOT", f.Tree.Root), e.Message);
        Assert.False(called);
        Assert.Empty(f.Sys.UnshareCalls);
        Assert.Empty(f.Sys.SetNsCalls);
        Assert.Empty(f.Sys.Mounts);
    }
}

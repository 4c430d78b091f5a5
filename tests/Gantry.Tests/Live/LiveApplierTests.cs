using Gantry.Common;
using Gantry.Edits;
using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Live;

public sealed class LiveApplierTests
{
    /// <summary>Host files beside the rootfs that the plan mounts, as discovery would have found them.</summary>
    sealed class HostFiles
    {
        public string Dir { get; }
        public string Library => Path.Combine(Dir, "lib/libcuda.so.550.54.15");
        public string Firmware => Path.Combine(Dir, "firmware/nvidia/550.54.15");

        public HostFiles(TestTree t)
        {
            Dir = Path.Combine(t.Base, "driver");
            Directory.CreateDirectory(Firmware);
            File.WriteAllText(Path.Combine(Firmware, "gsp.bin"), "firmware");
            Directory.CreateDirectory(Path.GetDirectoryName(Library)!);
            File.WriteAllText(Library, "host libcuda");
        }
    }

    // Five new mounts, in this order: the procfs tmpfs, a host library, a host directory, a file of the image, a device.
    static LivePlan Plan(HostFiles host) => new()
    {
        Edits = new ContainerEdits
        {
            Mounts =
            [
                new() { ContainerPath = "/proc/driver/nvidia", Type = "tmpfs", Options = ["nosuid", "nodev", "noexec", "mode=0555"] },
                new() { HostPath = host.Library, ContainerPath = "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", Options = ["ro", "nosuid", "nodev", "bind"] },
                new() { HostPath = host.Firmware, ContainerPath = "/lib/firmware/nvidia/550.54.15", Options = ["ro", "nosuid", "nodev", "bind"] },
            ],
            DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/null", Type = "c", Major = 1, Minor = 3 }],
        },
        Files = [new() { ContainerPath = "/proc/driver/nvidia/params", Content = "ModifyDeviceFiles: 0\n", Mode = 0b100_100_100 }],
        ContainerBinds = [new() { Source = "/usr/local/cuda/compat/libcuda.so.560.1", ContainerPath = "/usr/lib/x86_64-linux-gnu/libcuda.so.560.1" }],
        Symlinks = [new() { Path = "/usr/lib/x86_64-linux-gnu/libcuda.so.1", Target = "libcuda.so.550.54.15" }],
    };

    const int NewMountsInPlan = 5;

    static void Image(TestTree t)
    {
        t.WriteFile("/usr/local/cuda/compat/libcuda.so.560.1", "compat libcuda");
        t.Mkdir("/proc");
        t.Mkdir("/dev");
    }

    sealed class Fixture : IDisposable
    {
        public TestTree Tree { get; } = new();
        public HostFiles Host { get; }
        public FakeMountSyscalls Sys { get; }
        public ContainerRoot Root { get; }
        public StringWriter Output { get; } = new();
        public LiveApplier Applier { get; }
        public string Before { get; }

        public Fixture(string kind, Action<TestTree>? image = null)
        {
            Image(Tree);
            image?.Invoke(Tree);
            Host = new HostFiles(Tree);
            Sys = new FakeMountSyscalls(Resolvers.For(kind));
            Root = ContainerRoot.Open(Sys, Tree.Root);
            Applier = new LiveApplier(Root, new Log(Output, LogLevel.Debug), (0, 0));
            Before = TreeListing.Of(Tree.Root);
        }

        public void AssertNothingLeft()
        {
            Assert.Empty(Sys.Active);
            Assert.Equal(Before, TreeListing.Of(Tree.Root));
            Tree.AssertSentinelUntouched();
        }

        public void Dispose()
        {
            Applier.Dispose();
            Root.Dispose();
            Tree.Dispose();
        }
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Every_mount_goes_onto_a_proc_self_fd_path_inside_the_root_in_the_order_of_the_plan(string kind)
    {
        using var f = new Fixture(kind);
        f.Applier.Apply(Plan(f.Host));
        var root = f.Tree.Root;
        Assert.All(f.Sys.Mounts, m => Assert.StartsWith("/proc/self/fd/", m.Target));
        Assert.All(f.Sys.Mounts.Where(m => m.Source?.StartsWith('/') == true), m => Assert.StartsWith("/proc/self/fd/", m.Source));
        Assert.Equal(
            [$"{root}/proc/driver/nvidia", $"{root}/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", $"{root}/lib/firmware/nvidia/550.54.15",
             $"{root}/usr/lib/x86_64-linux-gnu/libcuda.so.560.1", $"{root}/dev/nvidia0"],
            f.Sys.Mounts.Where(m => !m.IsRemount).Select(m => m.TargetHostPath));
        Assert.Equal(NewMountsInPlan, f.Sys.Active.Count);
        Assert.Equal("ModifyDeviceFiles: 0\n", File.ReadAllText(f.Tree.InRoot("/proc/driver/nvidia/params")));
        Assert.Equal("libcuda.so.550.54.15", new FileInfo(f.Tree.InRoot("/usr/lib/x86_64-linux-gnu/libcuda.so.1")).LinkTarget);
        f.Tree.AssertSentinelUntouched();
    }

    public static TheoryData<string, ulong, string?> Flags => new()
    {
        // target, flags of its mount or remount, tmpfs data
        { "/proc/driver/nvidia", Ms.NoSuid | Ms.NoDev | Ms.NoExec, "mode=0555" },
        { "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null },
        { "/lib/firmware/nvidia/550.54.15", Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null },
        { "/usr/lib/x86_64-linux-gnu/libcuda.so.560.1", Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null },
        { "/dev/nvidia0", Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoExec, null },
    };

    [Theory, MemberData(nameof(Flags))]
    public void The_options_of_each_mount_become_its_flags_and_binds_are_remounted_with_them(string target, ulong flags, string? data)
    {
        using var f = new Fixture("openat2");
        f.Applier.Apply(Plan(f.Host));
        var last = f.Sys.Mounts.Last(m => m.TargetHostPath == f.Tree.Root + target);
        Assert.Equal(flags, last.Flags);
        Assert.Equal(data, last.Data);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Every_change_is_journalled_so_rollback_leaves_the_rootfs_as_it_was(string kind)
    {
        using var f = new Fixture(kind);
        f.Applier.Apply(Plan(f.Host));
        Assert.NotEqual(f.Before, TreeListing.Of(f.Tree.Root));
        f.Applier.Rollback();
        f.AssertNothingLeft();
        // unmounted newest first, each through the fd of its own mount
        Assert.Equal(
            [$"{f.Tree.Root}/dev/nvidia0", $"{f.Tree.Root}/usr/lib/x86_64-linux-gnu/libcuda.so.560.1", $"{f.Tree.Root}/lib/firmware/nvidia/550.54.15",
             $"{f.Tree.Root}/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", $"{f.Tree.Root}/proc/driver/nvidia"],
            f.Sys.Umounts.Select(u => u.HostPath));
        Assert.All(f.Sys.Umounts, u => Assert.Equal(Ms.MntDetach, u.Flags));
        Assert.DoesNotContain("WARNING", f.Output.ToString());
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Commit_keeps_every_mount(string kind)
    {
        using var f = new Fixture(kind);
        f.Applier.Apply(Plan(f.Host));
        f.Applier.Commit();
        f.Applier.Rollback();
        Assert.Empty(f.Sys.Umounts);
        Assert.Equal(NewMountsInPlan, f.Sys.Active.Count);
    }

    public static TheoryData<string, int> NthMount
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var kind in new[] { "openat2", "walk" })
                for (var n = 1; n <= NewMountsInPlan; n++) data.Add(kind, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(NthMount))]
    public void A_failure_at_the_nth_mount_rolls_back_every_mount_and_every_target_made_before_it(string kind, int n)
    {
        using var f = new Fixture(kind);
        f.Sys.FailMountAt = n;
        var e = Assert.Throws<SyscallException>(() => f.Applier.Apply(Plan(f.Host)));
        Assert.Contains("Operation not permitted", e.Message);
        Assert.Equal(n - 1, f.Sys.Active.Count);
        f.Applier.Rollback();
        Assert.Equal(n - 1, f.Sys.Umounts.Count);
        f.AssertNothingLeft();
    }

    // The image aims the directories the plan mounts into at the host: every target still lands inside the root.
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Symlinks_of_a_hostile_image_cannot_lead_a_mount_target_out_of_the_root(string kind)
    {
        using var f = new Fixture(kind, image: t =>
        {
            t.Symlink("/usr/lib/x86_64-linux-gnu", "../../../host"); // unconfined: the host sentinel beside the rootfs
            t.Symlink("/lib/firmware", t.Sentinel);
            t.Symlink("/proc/driver", "/../../..");
        });
        f.Applier.Apply(Plan(f.Host));
        Assert.All(f.Sys.Mounts, m => Assert.StartsWith(f.Tree.Root + "/", m.TargetHostPath));
        Assert.Contains($"{f.Tree.Root}/host/libcuda.so.550.54.15", f.Sys.Mounts.Select(m => m.TargetHostPath));
        Assert.Contains($"{f.Tree.Root}{f.Tree.Sentinel}/nvidia/550.54.15", f.Sys.Mounts.Select(m => m.TargetHostPath));
        Assert.Contains($"{f.Tree.Root}/nvidia", f.Sys.Mounts.Select(m => m.TargetHostPath));
        f.Tree.AssertSentinelUntouched();
        f.Applier.Rollback();
        f.AssertNothingLeft();
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        // what the image or host has wrong, the plan change, the error
        { "a dangling symlink as a file target", "dangling", "/usr/lib/x86_64-linux-gnu/libcuda.so.560.1: is a dangling symbolic link; refusing to follow it" },
        { "a directory where a file is bound", "directory", "/dev/nvidia0: is a directory" },
        { "a device node that is not the one discovery saw", "device", "invalid device node: /dev/null" },
        { "a compat library of the image that is not a regular file", "compat", "/usr/local/cuda/compat/libcuda.so.560.1 in the container is not a regular file" },
        { "a file of the image where a directory is needed", "file", "/lib/firmware: Not a directory" },
    };

    [Theory, MemberData(nameof(Refused))]
    public void A_refused_target_or_source_fails_the_apply_and_rollback_undoes_the_mounts_before_it(string why, string change, string error)
    {
        using var f = new Fixture("openat2", image: t =>
        {
            if (change == "dangling") t.Symlink("/usr/lib/x86_64-linux-gnu/libcuda.so.560.1", "/nowhere");
            if (change == "directory") t.Mkdir("/dev/nvidia0");
            if (change == "file") t.WriteFile("/lib/firmware", "image");
            if (change == "compat")
            {
                File.Delete(t.InRoot("/usr/local/cuda/compat/libcuda.so.560.1"));
                t.Mkdir("/usr/local/cuda/compat/libcuda.so.560.1");
            }
        });
        var plan = Plan(f.Host);
        if (change == "device") plan.DeviceNodes[0].Minor = 5;
        var e = Assert.ThrowsAny<IOException>(() => f.Applier.Apply(plan));
        Assert.Equal(error, e.Message);
        Assert.NotEmpty(f.Sys.Active); // the mounts before it
        f.Applier.Rollback();
        f.AssertNothingLeft();
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Dot_dot_in_the_plans_container_paths_is_clamped_at_the_root(string kind)
    {
        using var f = new Fixture(kind);
        var plan = Plan(f.Host);
        plan.Mounts[1].ContainerPath = "/../../../usr/lib/../lib64/./libcuda.so.550.54.15";
        plan.Mounts[2].ContainerPath = "/lib/firmware/../../../../nvidia/550.54.15";
        plan.DeviceNodes[0].Path = "/dev/../../dev/nvidia0";
        f.Applier.Apply(plan);
        var targets = f.Sys.Mounts.Where(m => !m.IsRemount).Select(m => m.TargetHostPath).ToList();
        Assert.Contains($"{f.Tree.Root}/usr/lib64/libcuda.so.550.54.15", targets);
        Assert.Contains($"{f.Tree.Root}/nvidia/550.54.15", targets);
        Assert.Contains($"{f.Tree.Root}/dev/nvidia0", targets);
        f.Tree.AssertSentinelUntouched();
        f.Applier.Rollback();
        f.AssertNothingLeft();
    }

    public static TheoryData<int> Remounts => new() { 1, 2, 3, 4 };

    // The read-only remount of a bind fails: that bind is taken away at once, the rollback undoes the rest.
    [Theory, MemberData(nameof(Remounts))]
    public void A_bind_whose_read_only_remount_fails_is_unmounted_at_once_and_the_rollback_undoes_the_rest(int n)
    {
        using var f = new Fixture("openat2");
        f.Sys.FailRemountAt = n;
        var e = Assert.Throws<SyscallException>(() => f.Applier.Apply(Plan(f.Host)));
        Assert.StartsWith("remount ", e.Message);
        Assert.Equal(n, f.Sys.Active.Count); // the tmpfs and the binds before it
        Assert.Single(f.Sys.Umounts);
        f.Applier.Rollback();
        Assert.Equal(n + 1, f.Sys.Umounts.Count);
        f.AssertNothingLeft();
        Assert.DoesNotContain("WARNING", f.Output.ToString()); // nothing was unmounted twice
    }

    [Fact]
    public void A_symlink_already_in_the_image_is_never_replaced_nor_removed_by_the_rollback()
    {
        using var f = new Fixture("openat2", image: t => t.Symlink("/usr/lib/x86_64-linux-gnu/libcuda.so.1", "libcuda.so.other"));
        f.Applier.Apply(Plan(f.Host));
        Assert.Equal("libcuda.so.other", new FileInfo(f.Tree.InRoot("/usr/lib/x86_64-linux-gnu/libcuda.so.1")).LinkTarget);
        Assert.DoesNotContain("creating symlink", f.Output.ToString());
        f.Applier.Rollback();
        f.AssertNothingLeft();
    }

    [Fact]
    public void Without_device_binding_the_nodes_are_not_mounted()
    {
        using var f = new Fixture("openat2");
        var plan = Plan(f.Host);
        plan.BindDevices = false;
        f.Applier.Apply(plan);
        Assert.Equal(NewMountsInPlan - 1, f.Sys.Active.Count);
        Assert.DoesNotContain(f.Sys.Mounts, m => m.TargetHostPath == f.Tree.Root + "/dev/nvidia0");
        Assert.False(File.Exists(f.Tree.InRoot("/dev/nvidia0")));
    }

    // No NVIDIA module on this host: the container's real procfs has no driver/nvidia, so there is nothing to hide.
    [Fact]
    public void A_procfs_without_the_drivers_directory_is_left_alone_with_everything_planned_below_it()
    {
        using var f = new Fixture("openat2");
        f.Sys.MarkProcfs(f.Tree.InRoot("/proc"));
        var plan = Plan(f.Host);
        plan.Mounts.Insert(1, new Mount { HostPath = f.Host.Library, ContainerPath = "/proc/driver/nvidia/gpus/0000:01:00.0/information", Options = ["ro", "bind"] });
        f.Applier.Apply(plan);
        Assert.DoesNotContain(f.Sys.Mounts, m => m.TargetHostPath!.StartsWith(f.Tree.Root + "/proc/", StringComparison.Ordinal));
        Assert.Equal(NewMountsInPlan - 1, f.Sys.Active.Count);
        Assert.Contains("WARNING: the container's /proc has no /driver/nvidia (no NVIDIA kernel module here); leaving it as it is", f.Output.ToString());
        Assert.False(Directory.Exists(f.Tree.InRoot("/proc/driver")));
    }

    [Fact]
    public void A_tmpfs_that_does_not_show_up_where_it_was_mounted_is_an_error()
    {
        using var f = new Fixture("openat2");
        var sys = new NoTmpfs();
        using var root = ContainerRoot.Open(sys, f.Tree.Root);
        using var applier = new LiveApplier(root, Log.Silent, (0, 0));
        var e = Assert.Throws<IOException>(() => applier.Apply(Plan(f.Host)));
        Assert.Equal("/proc/driver/nvidia is not the tmpfs just mounted there", e.Message);
        applier.Rollback();
        Assert.Equal(f.Before, TreeListing.Of(f.Tree.Root));
    }

    /// <summary>mount(2) answers success and does nothing: the directory stays what it was.</summary>
    sealed class NoTmpfs() : ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public override int Mount(string? source, string target, string? fsType, ulong flags, string? data) => 0;
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Files_and_symlinks_it_makes_are_given_to_the_containers_owner(string kind)
    {
        using var f = new Fixture(kind);
        using var applier = new LiveApplier(f.Root, Log.Silent, (1000, 1000));
        applier.Apply(Plan(f.Host));
        var chowned = f.Sys.Chowns.Select(c => c.Path).ToList();
        Assert.Contains($"{f.Tree.Root}/proc/driver/nvidia/params", chowned);
        Assert.Contains($"{f.Tree.Root}/dev/nvidia0", chowned);
        Assert.Contains(f.Sys.Chowns, c => c.Path == $"{f.Tree.Root}/usr/lib/x86_64-linux-gnu/libcuda.so.1" && c.Flags == At.SymlinkNoFollow);
        Assert.All(f.Sys.Chowns, c => Assert.Equal((1000u, 1000u), (c.Uid, c.Gid)));
        applier.Rollback();
    }

    // The same with the kernel's own mounts, in a private mount namespace: after the rollback nothing of the
    // rootfs is in the mount table and the tree is as it was.
    [RootTheory, MemberData(nameof(RealMounts))]
    public void With_real_mounts_a_failure_at_the_nth_mount_leaves_no_mount_and_no_target_behind(string kind, int n)
    {
        using var t = new TestTree();
        Image(t);
        var host = new HostFiles(t);
        var before = TreeListing.Of(t.Root);
        var sys = new FailNthMount(Resolvers.For(kind), n);
        string? mountinfo = null, whileMounted = null, params_ = null;
        Exception? failure = null;
        PrivateMountNamespace.Run(() =>
        {
            using var root = ContainerRoot.Open(sys, t.Root);
            using var applier = new LiveApplier(root, Log.Silent, (0, 0));
            try
            {
                applier.Apply(Plan(host));
                whileMounted = File.ReadAllText("/proc/thread-self/mountinfo");
                params_ = File.ReadAllText(t.InRoot("/proc/driver/nvidia/params"));
            }
            catch (IOException e) { failure = e; }
            applier.Rollback();
            mountinfo = File.ReadAllText("/proc/thread-self/mountinfo");
        });
        if (n == 0)
        {
            Assert.Null(failure);
            Assert.Equal(NewMountsInPlan, whileMounted!.Split('\n').Count(l => l.Contains(t.Root + "/")));
            Assert.Equal("ModifyDeviceFiles: 0\n", params_);
        }
        else Assert.IsType<SyscallException>(failure);
        Assert.DoesNotContain(t.Root, mountinfo);
        Assert.Equal(before, TreeListing.Of(t.Root));
        t.AssertSentinelUntouched();
    }

    public static TheoryData<string, int> RealMounts
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var kind in new[] { "openat2", "walk" })
                for (var n = 0; n <= NewMountsInPlan; n++) data.Add(kind, n);
            return data;
        }
    }

    /// <summary>The kernel's mounts, but the n-th new one (not a remount) fails with EPERM; 0: none fails.</summary>
    sealed class FailNthMount(ISyscalls inner, int n) : ForwardingSyscalls(inner)
    {
        int _count;
        public override int Mount(string? source, string target, string? fsType, ulong flags, string? data)
        {
            if ((flags & Ms.Remount) == 0 && ++_count == n) return -Errno.EPERM;
            return base.Mount(source, target, fsType, flags, data);
        }
    }
}

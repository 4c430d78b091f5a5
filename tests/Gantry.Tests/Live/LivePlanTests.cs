using Gantry.Edits;
using Gantry.Host;
using Gantry.Host.Cgroups;
using Gantry.Live;

namespace Gantry.Tests.Live;

public sealed class LivePlanTests
{
    static LivePlan Full() => new()
    {
        Edits = new ContainerEdits
        {
            Mounts =
            [
                new() { ContainerPath = "/proc/driver/nvidia", Type = "tmpfs", Options = ["nosuid", "nodev", "noexec", "mode=0555"] },
                new() { HostPath = "/usr/lib64/libcuda.so.550.54.15", ContainerPath = "/usr/lib64/libcuda.so.550.54.15", Options = ["ro", "nosuid", "nodev", "bind"] },
                new() { HostPath = "/usr/bin/nvidia-smi", ContainerPath = "/usr/bin/nvidia-smi" },
            ],
            DeviceNodes =
            [
                new() { Path = "/dev/nvidiactl", Type = "c", Major = 195, Minor = 255 },
                new() { Path = "/dev/nvidia0", HostPath = "/dev/nvidia3", Type = "c", Major = 195, Minor = 3 },
            ],
        },
        Files =
        [
            new() { ContainerPath = "/proc/driver/nvidia/params", Content = "ModifyDeviceFiles: 0\n", Mode = 0b100_100_100 },
            new() { ContainerPath = "/proc/driver/nvidia/gpus/0000:01:00.0/information", Content = "not a direct child", Mode = 0b100_100_100 },
        ],
        ContainerBinds = [new() { Source = "/usr/local/cuda/compat/libcuda.so.560.1", ContainerPath = "/usr/lib64/libcuda.so.560.1" }],
        Symlinks = [new() { Path = "/usr/lib64/libcuda.so.1", Target = "libcuda.so.550.54.15" }],
        CgroupRules = [new DeviceRule('c', 195, 255, "rw"), new DeviceRule('c', 195, 3, "rw")],
        Ldconfig = new LiveLdconfig { Path = "/sbin/ldconfig.real", FromHost = true, Folders = ["/usr/lib64", "/usr/lib"] },
    };

    [Fact]
    public void Describe_lists_every_step_once_in_the_order_it_is_applied()
    {
        Assert.Equal(
            """
            mount tmpfs at /proc/driver/nvidia (nosuid,nodev,noexec,mode=0555)
              write /proc/driver/nvidia/params mode 444 (21 bytes)
            mount /usr/lib64/libcuda.so.550.54.15 at /usr/lib64/libcuda.so.550.54.15 (ro,nosuid,nodev,bind)
            mount /usr/bin/nvidia-smi at /usr/bin/nvidia-smi ()
            mount container /usr/local/cuda/compat/libcuda.so.560.1 at /usr/lib64/libcuda.so.560.1 (ro,nosuid,nodev,bind)
            symlink /usr/lib64/libcuda.so.1 -> libcuda.so.550.54.15
            device /dev/nvidiactl at /dev/nvidiactl (c 195:255)
            device /dev/nvidia3 at /dev/nvidia0 (c 195:3)
            cgroup allow c 195:255 rw
            cgroup allow c 195:3 rw
            ldconfig host /sbin/ldconfig.real /usr/lib64 /usr/lib

            """.ReplaceLineEndings("\n"),
            Full().Describe());
    }

    [Fact]
    public void Without_device_binding_the_nodes_are_still_listed_as_not_bound_and_their_cgroup_rules_stay()
    {
        var plan = Full();
        plan.BindDevices = false;
        plan.Ldconfig = new LiveLdconfig { Path = "/sbin/ldconfig", Folders = ["/usr/lib64"] };
        var lines = plan.Describe().Split('\n');
        Assert.Contains("device (not bound) /dev/nvidiactl at /dev/nvidiactl (c 195:255)", lines);
        Assert.Contains("device (not bound) /dev/nvidia3 at /dev/nvidia0 (c 195:3)", lines);
        Assert.Contains("cgroup allow c 195:3 rw", lines);
        Assert.Contains("ldconfig container /sbin/ldconfig /usr/lib64", lines);
    }

    [Fact]
    public void A_new_plan_is_empty_binds_devices_and_its_mounts_and_nodes_are_the_edits_own_lists()
    {
        var plan = new LivePlan();
        Assert.Equal("", plan.Describe());
        Assert.True(plan.BindDevices);
        Assert.Null(plan.Ldconfig);
        plan.Mounts.Add(new Mount { HostPath = "/a", ContainerPath = "/a" });
        plan.DeviceNodes.Add(new DeviceNode { Path = "/dev/nvidia0" });
        Assert.Same(plan.Edits.Mounts, plan.Mounts);
        Assert.Same(plan.Edits.DeviceNodes, plan.DeviceNodes);
        Assert.False(plan.Edits.IsEmpty);
    }

    [Theory]
    [InlineData("/proc/driver/nvidia", "/proc/driver/nvidia/params", true)]
    [InlineData("/proc/driver/nvidia/", "/proc/driver/nvidia/params", true)]
    [InlineData("/proc/driver/nvidia", "/proc/driver/nvidia/gpus/0/information", false)]
    [InlineData("/proc/driver/nvidia", "/proc/driver/nvidia", false)]
    [InlineData("/proc/driver/nvidia", "/proc/driver/nvidia-caps/params", false)]
    [InlineData("/proc/driver/nvidia", "/proc/driver/nvidiaparams", false)]
    [InlineData("/", "/params", true)]
    public void A_file_belongs_to_a_tmpfs_only_as_its_direct_child(string dir, string path, bool child) =>
        Assert.Equal(child, LivePaths.IsDirectChild(dir, path));

    public static TheoryData<string[]?, ulong, string?> Options => new()
    {
        { null, 0, null },
        { [], 0, null },
        { ["ro", "nosuid", "nodev", "bind"], Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null },
        { ["rbind", "rprivate", "rw", "private", "noexec"], Ms.NoExec, null },
        { ["nosuid", "nodev", "noexec", "mode=0555"], Ms.NoSuid | Ms.NoDev | Ms.NoExec, "mode=0555" },
        { ["mode=0755", "ro", "size=65536"], Ms.RdOnly, "mode=0755,size=65536" },
    };

    [Theory, MemberData(nameof(Options))]
    public void Cdi_mount_options_become_mount_flags_and_the_rest_is_tmpfs_data(string[]? options, ulong flags, string? data) =>
        Assert.Equal((flags, data), LivePaths.MountFlags(options));
}

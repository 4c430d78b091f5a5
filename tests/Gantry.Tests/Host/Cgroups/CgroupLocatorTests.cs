using Gantry.Host.Cgroups;

namespace Gantry.Tests.Host.Cgroups;

// Captured /proc/PID/cgroup and mountinfo texts (hybrid, pure v1, pure v2, inside a cgroup namespace) and what
// libnvidia-container would conclude from them.
public sealed class CgroupLocatorTests
{
    // This build machine: cgroup v1 controllers plus cgroup2 at /sys/fs/cgroup/unified (systemd's "hybrid").
    const string HybridMounts = """
        22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

        """;

    const string HybridContainer = """
        9:name=systemd:/docker/3f2a
        5:devices:/docker/3f2a
        4:memory:/docker/3f2a
        0::/docker/3f2a

        """;

    // Ubuntu 22.04 with Docker's systemd cgroup driver: cgroup2 only.
    const string UnifiedMounts = """
        24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        35 26 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot

        """;

    // CentOS 7: v1 only, cpu and cpuacct co-mounted, optional fields before the separator.
    const string LegacyMounts = """
        25 18 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,cpuacct,cpu
        26 18 0:23 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:9 master:2 - cgroup cgroup rw,devices

        """;

    static DeviceCgroupLocation Locate(string cgroup, string mounts) =>
        CgroupLocator.Locate(ProcCgroupFile.Parse(cgroup, "cgroup"), MountInfo.Parse(mounts, "mountinfo"), "cgroup", "mountinfo");

    static string Error(string cgroup, string mounts) =>
        Assert.Throws<DeviceCgroupException>(() => Locate(cgroup, mounts)).Message;

    [Fact]
    public void A_hybrid_host_uses_the_v1_devices_controller_although_cgroup2_is_mounted()
    {
        var l = Locate(HybridContainer, HybridMounts);
        Assert.Equal(CgroupVersion.V1, l.Version);
        Assert.Equal("/sys/fs/cgroup/devices", l.MountPoint);
        Assert.Equal("docker/3f2a", l.RelativePath);
        Assert.Equal("/sys/fs/cgroup/devices/docker/3f2a", l.HostPath);
    }

    [Fact]
    public void A_pure_v2_host_uses_the_unified_entry_and_the_cgroup2_mount()
    {
        var l = Locate("0::/system.slice/docker-3f2a.scope\n", UnifiedMounts);
        Assert.Equal(CgroupVersion.V2, l.Version);
        Assert.Equal("/sys/fs/cgroup/system.slice/docker-3f2a.scope", l.HostPath);
    }

    [Fact]
    public void A_v1_host_finds_the_devices_mount_past_optional_fields_and_co_mounted_controllers()
    {
        var l = Locate("11:cpuacct,cpu:/kubepods/pod1/c1\n10:devices:/kubepods/pod1/c1\n", LegacyMounts);
        Assert.Equal(CgroupVersion.V1, l.Version);
        Assert.Equal("/sys/fs/cgroup/devices/kubepods/pod1/c1", l.HostPath);
    }

    [Fact]
    public void The_devices_option_finds_a_controller_mounted_under_another_name()
    {
        var l = Locate("3:devices,freezer:/job\n", "40 30 0:32 / /cgroup/dev+frz rw - cgroup none rw,devices,freezer\n");
        Assert.Equal("/cgroup/dev+frz/job", l.HostPath);
    }

    [Fact]
    public void The_root_cgroup_has_an_empty_relative_path() =>
        Assert.Equal("/sys/fs/cgroup/devices", Locate("5:devices:/\n", HybridMounts).HostPath);

    [Fact]
    public void A_mount_of_a_sub_hierarchy_strips_its_root_from_the_cgroup_path()
    {
        // Inside a container with a private cgroup namespace the host's hierarchy is mounted from /docker/3f2a.
        const string mounts = "700 650 0:32 /docker/3f2a /sys/fs/cgroup/devices ro,nosuid - cgroup cgroup rw,devices\n";
        Assert.Equal("/sys/fs/cgroup/devices/inner", Locate("5:devices:/docker/3f2a/inner\n", mounts).HostPath);
        Assert.Equal("/sys/fs/cgroup/devices", Locate("5:devices:/docker/3f2a\n", mounts).HostPath);
    }

    [Fact]
    public void The_first_mount_that_holds_the_cgroup_wins_and_a_prefix_must_end_at_a_component()
    {
        const string mounts = """
            700 650 0:32 /docker/3f /mnt/other ro - cgroup cgroup rw,devices
            701 650 0:32 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices

            """;
        Assert.Equal("/sys/fs/cgroup/devices/docker/3f2a", Locate("5:devices:/docker/3f2a\n", mounts).HostPath);
    }

    [Theory]
    [InlineData("/..hidden/a b/c:d", "..hidden/a b/c:d")]
    [InlineData("/weird...name", "weird...name")]
    [InlineData("/pod 1/ctr\ttab", "pod 1/ctr\ttab")]
    public void Odd_but_real_cgroup_names_are_kept_as_they_are(string path, string relative) =>
        Assert.Equal(relative, Locate($"5:devices:{path}\n", HybridMounts).RelativePath);

    [Theory]
    [InlineData("5:devices:/../../outside")]
    [InlineData("0::/a/../b")]
    public void A_path_outside_the_readers_cgroup_namespace_is_refused(string line) =>
        Assert.Contains("outside this process's cgroup namespace", Error(line + "\n", HybridMounts));

    [Fact]
    public void A_mount_whose_root_climbs_out_of_its_filesystem_is_refused() =>
        Assert.Contains("relative root '/../x'", Error("0::/a\n", "40 30 0:37 /../x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"));

    [Fact]
    public void Missing_entries_say_what_is_missing()
    {
        Assert.Equal("no devices or unified cgroup entry in cgroup", Error("4:memory:/a\n1:name=systemd:/a\n", HybridMounts));
        Assert.Equal("no cgroup2 mount in mountinfo", Error("0::/a\n", LegacyMounts));
        Assert.Equal("no cgroup v1 devices mount in mountinfo", Error("5:devices:/a\n", UnifiedMounts));
        Assert.Contains("cgroup /b (cgroup) is not below any cgroup2 mount", Error("0::/b\n", "40 30 0:37 /a /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("5-devices-/a")]
    public void A_malformed_cgroup_line_is_named(string line) =>
        Assert.Equal($"malformed line in cgroup: '{line}'", Error(line + "\n", HybridMounts));

    [Theory]
    [InlineData("40 30 0:37 / /sys/fs/cgroup")]
    [InlineData("40 30 0:37 / /sys/fs/cgroup rw shared:1 cgroup2 cgroup2 rw")]
    [InlineData("40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2")]
    public void A_malformed_mountinfo_line_is_named(string line) =>
        Assert.Equal($"malformed line in mountinfo: '{line}'", Error("0::/\n", line + "\n"));

    [Fact]
    public void Mount_points_with_escaped_spaces_are_decoded()
    {
        var m = MountInfo.Parse("40 30 0:37 / /mnt/my\\040cgroups\\134x rw - cgroup2 cgroup2 rw\n", "mountinfo");
        Assert.Equal("/mnt/my cgroups\\x", m[0].MountPoint);
        Assert.Equal("/mnt/my cgroups\\x/a", Locate("0::/a\n", "40 30 0:37 / /mnt/my\\040cgroups\\134x rw - cgroup2 cgroup2 rw\n").HostPath);
    }
}

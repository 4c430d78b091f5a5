using Gantry.Host.Cgroups;
using Gantry.Tests.Support;

namespace Gantry.Tests.Host.Cgroups;

// The v1 applier against a directory that stands in for /proc and /sys/fs/cgroup: what is written, where, and
// that links planted in the hierarchy lead nowhere outside it.
public sealed class DeviceCgroupV1Tests : IDisposable
{
    const int Pid = 4242;
    readonly ScratchDirectory _dir = new();
    string Proc => Path.Combine(_dir.Path, "proc");
    string Cgroups => Path.Combine(_dir.Path, "cgroup");

    public DeviceCgroupV1Tests()
    {
        _dir.Write("proc/self/mountinfo", "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n" +
            "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
        _dir.Write($"proc/{Pid}/cgroup", "5:devices:/docker/3f2a\n0::/docker/3f2a\n");
        _dir.Write("cgroup/devices/docker/3f2a/devices.allow", "");
    }

    public void Dispose() => _dir.Dispose();

    string AllowFile => Path.Combine(Cgroups, "devices/docker/3f2a/devices.allow");

    [Fact]
    public void Each_rule_is_written_on_its_own_line_in_devices_allow()
    {
        DeviceCgroup.Allow(Pid, [new('c', 195, 1, "rw"), new('c', 195, DeviceRule.Any, "rwm"), new('b', DeviceRule.Any, 0, "r")], Proc, Cgroups);
        Assert.Equal("c 195:1 rw\nc 195:* rwm\nb *:0 r\n", File.ReadAllText(AllowFile));
    }

    [Fact]
    public void Locate_takes_mount_points_below_sys_fs_cgroup_relative_to_the_cgroup_root()
    {
        var l = DeviceCgroup.Locate(Pid, Proc, Cgroups);
        Assert.Equal(Path.Combine(Cgroups, "devices"), l.MountPoint);
        Assert.Equal(CgroupVersion.V1, l.Version);
    }

    [Fact]
    public void No_rules_change_nothing_and_need_no_cgroup()
    {
        DeviceCgroup.Allow(999999, [], Proc, Cgroups);
        Assert.Equal("", File.ReadAllText(AllowFile));
    }

    [Fact]
    public void A_process_that_is_gone_is_a_clear_error()
    {
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroup.Allow(77, [new('c', 1, 3, "rw")], Proc, Cgroups));
        Assert.Equal($"cannot read {Proc}/77/cgroup: no such file (has the process exited?)", e.Message);
    }

    [Fact]
    public void A_missing_cgroup_directory_is_a_clear_error()
    {
        File.WriteAllText(Path.Combine(Proc, $"{Pid}/cgroup"), "5:devices:/docker/gone\n");
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroup.Allow(Pid, [new('c', 1, 3, "rw")], Proc, Cgroups));
        Assert.Equal($"cannot open {Cgroups}/devices/docker/gone/devices.allow: No such file or directory", e.Message);
    }

    [Fact]
    public void A_devices_allow_that_is_a_symlink_is_not_followed()
    {
        var outside = _dir.Write("outside/devices.allow", "");
        File.Delete(AllowFile);
        File.CreateSymbolicLink(AllowFile, outside);
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroup.Allow(Pid, [new('c', 1, 3, "rw")], Proc, Cgroups));
        Assert.Contains("Too many levels of symbolic links", e.Message);
        Assert.Equal("", File.ReadAllText(outside));
    }

    [Fact]
    public void A_cgroup_directory_that_is_a_symlink_cannot_lead_out_of_the_hierarchy()
    {
        var outside = _dir.Write("outside/evil/devices.allow", "");
        Directory.CreateSymbolicLink(Path.Combine(Cgroups, "devices/evil"), Path.GetDirectoryName(outside)!);
        File.WriteAllText(Path.Combine(Proc, $"{Pid}/cgroup"), "5:devices:/evil\n");
        Assert.Throws<DeviceCgroupException>(() => DeviceCgroup.Allow(Pid, [new('c', 1, 3, "rw")], Proc, Cgroups));
        Assert.Equal("", File.ReadAllText(outside));
    }

    [Theory]
    [InlineData('a', 1u, 3u, "rw", "type 'a'")]
    [InlineData('c', 1u, 3u, "rx", "access 'rx'")]
    [InlineData('c', 1u, 3u, "", "access ''")]
    [InlineData('c', 1u, 3u, "rr", "access 'rr'")]
    [InlineData('c', 0x80000000u, 3u, "rw", "out of range")]
    public void A_rule_the_kernel_would_not_take_is_refused_before_anything_is_written(char type, uint major, uint minor, string access, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceCgroup.Allow(Pid, [new('c', 1, 3, "rw"), new(type, major, minor, access)], Proc, Cgroups));
        Assert.Contains(expected, e.Message);
        Assert.Equal("", File.ReadAllText(AllowFile));
    }
}

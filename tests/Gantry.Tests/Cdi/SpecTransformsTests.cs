using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Cdi;

public class SpecTransformsTests
{
    static DeviceNode N(string p) => new() { Path = p, HostPath = p };
    static Mount M(string p) => new() { HostPath = p, ContainerPath = p, Options = ["ro"] };

    [Fact]
    public void Device_nodes_sort_by_depth_then_path_as_in_the_original()
    {
        var spec = new Spec
        {
            Kind = "a.b/c",
            Devices = [new() { Name = "x", ContainerEdits = new() { Env = ["A=1"] } }],
            ContainerEdits = new()
            {
                DeviceNodes = [N("/dev/nvidia-caps/nvidia-cap1"), N("/dev/nvidia-caps-imex-channels/channel0"), N("/dev/nvidiactl"), N("/dev/nvidia0")],
            },
        };
        var sorted = SpecTransforms.Sort(spec);
        Assert.Equal(["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-caps-imex-channels/channel0", "/dev/nvidia-caps/nvidia-cap1"],
            sorted.ContainerEdits!.DeviceNodes!.Select(n => n.Path));
    }

    [Fact]
    public void Mounts_sort_by_cleaned_container_path_and_env_and_hooks_keep_their_order()
    {
        var e = new ContainerEdits
        {
            Env = ["Z=1", "A=1"],
            Hooks = [new() { HookName = "createContainer", Path = "/z" }, new() { HookName = "createContainer", Path = "/a" }],
            Mounts = [M("/usr/lib//x/../libz.so"), M("/lib/a/b/c.so"), M("/usr/lib/liba.so"), M("/a.so")],
        };
        var sorted = SpecTransforms.SortEdits(e);
        Assert.Equal(["/a.so", "/usr/lib/liba.so", "/usr/lib//x/../libz.so", "/lib/a/b/c.so"], sorted.Mounts!.Select(m => m.ContainerPath));
        Assert.Equal(["Z=1", "A=1"], sorted.Env);
        Assert.Equal(["/z", "/a"], sorted.Hooks!.Select(h => h.Path));
    }

    [Fact]
    public void Devices_sort_by_name_in_byte_order()
    {
        var spec = new Spec { Kind = "a.b/c", Devices = new[] { "all", "MIG-1", "GPU-2", "1", "0", "10" }.Select(n => new Device { Name = n }).ToList() };
        Assert.Equal(["0", "1", "10", "GPU-2", "MIG-1", "all"], SpecTransforms.Sort(spec).Devices.Select(d => d.Name));
    }

    [Fact]
    public void Dedupe_keeps_the_first_of_identical_entities_and_sorts_gids()
    {
        var e = new ContainerEdits
        {
            Env = ["A=1", "B=2", "A=1"],
            DeviceNodes = [N("/dev/a"), N("/dev/a"), new() { Path = "/dev/a" }],
            Mounts = [M("/x"), M("/x")],
            Hooks = [new() { HookName = "createContainer", Path = "/h", Args = ["h"] }, new() { HookName = "createContainer", Path = "/h", Args = ["h"] }],
            AdditionalGids = [44, 12, 44],
        };
        var d = SpecTransforms.Dedupe(e);
        Assert.Equal(["A=1", "B=2"], d.Env);
        Assert.Equal(2, d.DeviceNodes!.Count); // same path, different hostPath: different entities
        Assert.Single(d.Mounts!);
        Assert.Single(d.Hooks!);
        Assert.Equal([12u, 44u], d.AdditionalGids);
    }

    [Fact]
    public void What_the_common_edits_give_is_removed_from_devices_unless_that_leaves_them_empty()
    {
        var spec = new Spec
        {
            Kind = "a.b/c",
            Devices =
            [
                new() { Name = "a", ContainerEdits = new() { Env = ["X=1"], DeviceNodes = [N("/dev/a")] } },
                new() { Name = "b", ContainerEdits = new() { Env = ["X=1"] } },
            ],
            ContainerEdits = new() { Env = ["X=1"] },
        };
        var r = SpecTransforms.RemoveCommonFromDevices(spec);
        Assert.Empty(r.Devices[0].ContainerEdits.Env!);
        Assert.Single(r.Devices[0].ContainerEdits.DeviceNodes!);
        Assert.Equal(["X=1"], r.Devices[1].ContainerEdits.Env); // would be empty: kept as it was
        Assert.Equal(["X=1"], spec.Devices[0].ContainerEdits.Env); // input untouched
    }

    [Fact]
    public void The_merged_all_device_concatenates_every_device_then_simplifies()
    {
        var spec = new Spec
        {
            Kind = "a.b/c",
            Devices =
            [
                new() { Name = "1", ContainerEdits = new() { DeviceNodes = [N("/dev/nvidia1")], Env = ["A=1"] } },
                new() { Name = "0", ContainerEdits = new() { DeviceNodes = [N("/dev/nvidia0")], Env = ["A=1"] } },
            ],
        };
        var all = SpecTransforms.AddMergedAllDevice(spec).Devices.Single(d => d.Name == "all");
        Assert.Equal(["/dev/nvidia0", "/dev/nvidia1"], all.ContainerEdits.DeviceNodes!.Select(n => n.Path));
        Assert.Equal(["A=1"], all.ContainerEdits.Env);
        Assert.Equal(2, spec.Devices.Count);
    }

    [Fact]
    public void No_merged_device_is_added_when_a_device_named_all_exists()
    {
        var spec = new Spec { Kind = "a.b/c", Devices = [new() { Name = "all", ContainerEdits = new() { Env = ["A=1"] } }, new() { Name = "0", ContainerEdits = new() { Env = ["B=1"] } }] };
        var r = SpecTransforms.AddMergedAllDevice(spec);
        Assert.Equal(2, r.Devices.Count);
        Assert.Equal(["A=1"], r.Devices[0].ContainerEdits.Env);
    }

    [Theory]
    [InlineData("/a//b/./c/", "/a/b/c")]
    [InlineData("/a/b/../../..", "/")]
    [InlineData("a/../..", "..")]
    [InlineData("", ".")]
    public void Paths_are_cleaned_like_go(string path, string clean) => Assert.Equal(clean, SpecTransforms.CleanPath(path));
}

using System.Text;
using Gantry.Edits;
using Gantry.Oci;

namespace Gantry.Tests.Oci;

public sealed class EditsApplierTests
{
    static readonly EditsApplier Applier = new(new FakeRuntimeSyscalls());

    static string Apply(string json, ContainerEdits edits)
    {
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes(json), "config.json", false);
        Applier.Apply(spec, edits);
        return Encoding.UTF8.GetString(spec.Serialize()).TrimEnd();
    }

    [Fact]
    public void Env_replaces_a_variable_of_the_same_name_and_appends_the_rest() =>
        Assert.Equal("""{"process":{"env":["PATH=/bin","NVIDIA_VISIBLE_DEVICES=void","B=2"]}}""",
            Apply("""{"process":{"env":["PATH=/bin","NVIDIA_VISIBLE_DEVICES=0"]}}""", new ContainerEdits { Env = ["NVIDIA_VISIBLE_DEVICES=void", "B=2"] }));

    [Fact]
    public void Device_nodes_get_host_numbers_a_cgroup_rule_and_the_process_user()
    {
        var json = Apply("""{"process":{"user":{"uid":1000,"gid":0}},"linux":{"devices":[{"path":"/dev/nvidia0","type":"c","major":1,"minor":1}]}}""",
            new ContainerEdits { DeviceNodes = [new DeviceNode { Path = "/dev/nvidia0" }, new DeviceNode { Path = "/dev/nvidiactl", Permissions = "rw", Gid = 44 }] });
        Assert.Equal("""{"process":{"user":{"uid":1000,"gid":0}},"linux":{"devices":[{"path":"/dev/nvidia0","type":"c","major":195,"minor":0,"uid":1000},{"path":"/dev/nvidiactl","type":"c","major":195,"minor":255,"uid":1000,"gid":44}],"resources":{"devices":[{"allow":true,"type":"c","major":195,"minor":0,"access":"rwm"},{"allow":true,"type":"c","major":195,"minor":255,"access":"rw"}]}}}""", json);
    }

    [Fact]
    public void A_device_node_that_is_not_a_device_on_the_host_is_an_error()
    {
        var e = Assert.Throws<OciSpecException>(() => Apply("{}", new ContainerEdits { DeviceNodes = [new DeviceNode { Path = "/dev/nvidia9", HostPath = "/nonexistent/nvidia9" }] }));
        Assert.Contains("cannot add device node /dev/nvidia9", e.Message);
    }

    [Fact]
    public void Mounts_replace_the_same_destination_and_are_sorted_by_depth_stably()
    {
        var json = Apply("""{"mounts":[{"destination":"/a/b/c","source":"x"},{"destination":"/proc","source":"proc","type":"proc"},{"destination":"/usr/lib/libcuda.so","source":"old"},{"destination":"/dev","source":"tmpfs"}]}""",
            new ContainerEdits { Mounts = [new Mount { HostPath = "/h/libcuda.so", ContainerPath = "/usr/lib/libcuda.so", Options = ["ro", "bind"] }, new Mount { HostPath = "/h/bin", ContainerPath = "/x" }] });
        Assert.Equal("""{"mounts":[{"destination":"/proc","source":"proc","type":"proc"},{"destination":"/dev","source":"tmpfs"},{"destination":"/x","source":"/h/bin"},{"destination":"/a/b/c","source":"x"},{"destination":"/usr/lib/libcuda.so","source":"/h/libcuda.so","options":["ro","bind"]}]}""", json);
    }

    [Fact]
    public void Hooks_go_under_their_lifecycle_and_gids_are_added_once_and_never_zero()
    {
        var json = Apply("""{"process":{"user":{"uid":0,"gid":0,"additionalGids":[44]}},"hooks":{"prestart":[{"path":"/p"}]}}""", new ContainerEdits
        {
            Hooks = [new Hook { HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook", Args = ["nvidia-cdi-hook", "update-ldcache"], Env = ["NVIDIA_CTK_DEBUG=false"] }],
            AdditionalGids = [0, 44, 45],
        });
        Assert.Equal("""{"process":{"user":{"uid":0,"gid":0,"additionalGids":[44,45]}},"hooks":{"prestart":[{"path":"/p"}],"createContainer":[{"path":"/usr/bin/nvidia-cdi-hook","args":["nvidia-cdi-hook","update-ldcache"],"env":["NVIDIA_CTK_DEBUG=false"]}]}}""", json);
    }
}

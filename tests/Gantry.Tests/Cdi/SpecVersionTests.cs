using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Cdi;

public class SpecVersionTests
{
    static Spec Base(Action<Spec>? change = null)
    {
        var s = new Spec { Kind = "nvidia.com/gpu", Devices = [new() { Name = "gpu", ContainerEdits = new() { DeviceNodes = [new() { Path = "/dev/nvidia0" }] } }] };
        change?.Invoke(s);
        return s;
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "nothing new", "0.3.0" },
        { "mount type", "0.4.0" },
        { "device hostPath", "0.5.0" },
        { "name starting with a digit", "0.5.0" },
        { "spec annotations", "0.6.0" },
        { "device annotations", "0.6.0" },
        { "dot in class", "0.6.0" },
        { "additionalGids common", "0.7.0" },
        { "additionalGids device", "0.7.0" },
        { "gids and hostPath", "0.7.0" },
    };

    static Spec Make(string feature) => feature switch
    {
        "nothing new" => Base(),
        "mount type" => Base(s => s.ContainerEdits = new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Type = "bind" }] }),
        "device hostPath" => Base(s => s.Devices[0].ContainerEdits.DeviceNodes![0].HostPath = "/dev/nvidia0"),
        "name starting with a digit" => Base(s => s.Devices[0].Name = "0"),
        "spec annotations" => Base(s => s.Annotations = new() { ["a"] = "b" }),
        "device annotations" => Base(s => s.Devices[0].Annotations = new() { ["a"] = "b" }),
        "dot in class" => Base(s => s.Kind = "nvidia.com/gpu.coherent"),
        "additionalGids common" => Base(s => s.ContainerEdits = new() { AdditionalGids = [44] }),
        "additionalGids device" => Base(s => s.Devices[0].ContainerEdits.AdditionalGids = [44]),
        "gids and hostPath" => Base(s => { s.Devices[0].Name = "0"; s.Devices[0].ContainerEdits.AdditionalGids = [44]; }),
        _ => throw new ArgumentException(feature),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_minimum_version_is_the_oldest_that_has_every_feature_used(string feature, string expected) =>
        Assert.Equal(expected, SpecVersion.Minimum(Make(feature)));

    [Fact]
    public void Empty_lists_and_maps_do_not_count_as_features_used() =>
        Assert.Equal("0.3.0", SpecVersion.Minimum(Base(s =>
        {
            s.Annotations = new();
            s.ContainerEdits = new() { AdditionalGids = [], Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Type = "" }] };
        })));

    [Fact]
    public void The_known_versions_run_from_0_3_0_to_1_1_0_in_order()
    {
        Assert.Equal(["0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0"], SpecVersion.Known);
        Assert.True(SpecVersion.IsKnown("v0.5.0"));
        Assert.False(SpecVersion.IsKnown("0.2.0"));
        Assert.False(SpecVersion.IsKnown("0.5"));
    }

    [Theory]
    [InlineData("0.5.0", "0.10.0", -1)]
    [InlineData("1.0.0", "0.8.0", 1)]
    [InlineData("v0.7.0", "0.7.0", 0)]
    public void Versions_compare_numerically(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(SpecVersion.Compare(a, b)));
}

using System.Text.Json;
using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Edits;

// The edits model itself is plain data: IsEmpty is its one behaviour, and the CDI JSON is its shape. Merging
// edits is SpecTransforms.Append (concatenate), then Dedupe (first of identical entities) and SortEdits.
public sealed class ContainerEditsTests
{
    // The model is internal, so the cases go by name.
    static readonly Dictionary<string, (ContainerEdits Edits, bool Empty)> EmptinessCases = new()
    {
        ["nothing at all"] = (new ContainerEdits(), true),
        ["empty lists"] = (new ContainerEdits { Env = [], DeviceNodes = [], Hooks = [], Mounts = [], AdditionalGids = [] }, true),
        ["an env entry"] = (new ContainerEdits { Env = ["A=1"], Mounts = [] }, false),
        ["an empty env entry"] = (new ContainerEdits { Env = [""] }, false),
        ["a device node"] = (new ContainerEdits { DeviceNodes = [new() { Path = "/dev/nvidia0" }] }, false),
        ["a hook"] = (new ContainerEdits { Hooks = [new() { HookName = "createContainer", Path = "/bin/true" }] }, false),
        ["a mount"] = (new ContainerEdits { Mounts = [new() { HostPath = "/a", ContainerPath = "/a" }] }, false),
        ["a gid, even 0"] = (new ContainerEdits { AdditionalGids = [0] }, false),
    };

    public static TheoryData<string> Emptiness => new(EmptinessCases.Keys);

    [Theory, MemberData(nameof(Emptiness))]
    public void Edits_are_empty_only_when_every_list_is_missing_or_empty(string what) =>
        Assert.Equal(EmptinessCases[what].Empty, EmptinessCases[what].Edits.IsEmpty);

    static string CommonEditsJson(ContainerEdits edits)
    {
        var json = SpecJson.Serialize(new Spec { CdiVersion = "0.6.0", Kind = "nvidia.com/gpu", Devices = [], ContainerEdits = edits });
        return JsonDocument.Parse(json).RootElement.GetProperty("containerEdits").GetRawText();
    }

    [Fact]
    public void Edits_are_written_with_the_cdi_field_names_and_without_what_is_missing_or_derived()
    {
        var edits = new ContainerEdits
        {
            Env = ["NVIDIA_VISIBLE_DEVICES=void"],
            DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/nvidia0", Type = "c", Major = 195, Minor = 0, FileMode = 438, Permissions = "rw", Uid = 0, Gid = 44 }],
            Hooks = [new() { HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook", Args = ["nvidia-cdi-hook", "update-ldcache"], Env = ["A=1"], Timeout = 5 }],
            Mounts = [new() { HostPath = "/usr/lib64/libcuda.so.1", ContainerPath = "/usr/lib64/libcuda.so.1", Options = ["ro", "nosuid", "nodev", "bind"], Type = "bind" }],
            AdditionalGids = [44],
        };
        Assert.Equal(
            """{"env":["NVIDIA_VISIBLE_DEVICES=void"],"deviceNodes":[{"path":"/dev/nvidia0","hostPath":"/dev/nvidia0","type":"c","major":195,"fileMode":438,"permissions":"rw","uid":0,"gid":44}],"hooks":[{"hookName":"createContainer","path":"/usr/bin/nvidia-cdi-hook","args":["nvidia-cdi-hook","update-ldcache"],"env":["A=1"],"timeout":5}],"mounts":[{"hostPath":"/usr/lib64/libcuda.so.1","containerPath":"/usr/lib64/libcuda.so.1","options":["ro","nosuid","nodev","bind"],"type":"bind"}],"additionalGids":[44]}""",
            CommonEditsJson(edits));
        Assert.Equal("{}", CommonEditsJson(new ContainerEdits { Env = [], Mounts = [] }));
    }

    [Fact]
    public void Edits_read_back_as_they_were_written()
    {
        var text = """{"cdiVersion":"0.6.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"deviceNodes":[{"path":"/dev/nvidia0"}],"additionalGids":[44,12]}}],"containerEdits":{"env":["A=1","A=2"],"hooks":[{"hookName":"createContainer","path":"/h"}],"mounts":[{"hostPath":"/a","containerPath":"/b","options":["ro"]}]}}""";
        var spec = SpecJson.Deserialize(text)!;
        var common = spec.ContainerEdits!;
        Assert.Equal(["A=1", "A=2"], common.Env);
        Assert.Equal(("/a", "/b", "ro"), (common.Mounts![0].HostPath, common.Mounts[0].ContainerPath, Assert.Single(common.Mounts[0].Options!)));
        Assert.Null(common.Mounts[0].Type);
        Assert.Null(common.DeviceNodes);
        Assert.Equal([44u, 12u], spec.Devices[0].ContainerEdits.AdditionalGids);
        Assert.Equal(text, SpecJson.Serialize(spec));
    }

    [Theory]
    [InlineData("""{"env":["A=1"],"devices":[]}""")]
    [InlineData("""{"mounts":[{"hostPath":"/a","containerPath":"/a","readOnly":true}]}""")]
    public void Fields_outside_the_cdi_schema_are_refused(string edits) =>
        Assert.Throws<JsonException>(() => SpecJson.Deserialize($$"""{"cdiVersion":"0.6.0","kind":"a.b/c","devices":[],"containerEdits":{{edits}}}"""));

    static ContainerEdits Gpu(int i) => new()
    {
        Env = [$"GPU{i}=1", "NVIDIA_VISIBLE_DEVICES=void"],
        DeviceNodes = [new() { Path = $"/dev/nvidia{i}" }, new() { Path = "/dev/nvidiactl" }],
        Hooks = [new() { HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook", Args = ["nvidia-cdi-hook", "chmod", $"/dev/nvidia{i}"] }],
        Mounts = [new() { HostPath = "/usr/lib64/libcuda.so.1", ContainerPath = "/usr/lib64/libcuda.so.1", Options = ["ro", "bind"] }],
        AdditionalGids = [44, (uint)(100 + i)],
    };

    [Fact]
    public void Appending_concatenates_every_list_in_order_and_keeps_duplicates()
    {
        var merged = new ContainerEdits();
        SpecTransforms.Append(merged, Gpu(0));
        SpecTransforms.Append(merged, Gpu(1));
        Assert.Equal(["GPU0=1", "NVIDIA_VISIBLE_DEVICES=void", "GPU1=1", "NVIDIA_VISIBLE_DEVICES=void"], merged.Env);
        Assert.Equal(["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia1", "/dev/nvidiactl"], merged.DeviceNodes!.Select(n => n.Path));
        Assert.Equal(["/dev/nvidia0", "/dev/nvidia1"], merged.Hooks!.Select(h => h.Args![^1]));
        Assert.Equal(2, merged.Mounts!.Count);
        Assert.Equal([44u, 100u, 44u, 101u], merged.AdditionalGids);
    }

    [Fact]
    public void Appending_nothing_or_empty_lists_leaves_missing_lists_missing()
    {
        var merged = new ContainerEdits { Env = ["A=1"] };
        SpecTransforms.Append(merged, null);
        SpecTransforms.Append(merged, new ContainerEdits { DeviceNodes = [], Mounts = [], Hooks = [], AdditionalGids = [] });
        Assert.Equal(["A=1"], merged.Env);
        Assert.Null(merged.DeviceNodes);
        Assert.Null(merged.Mounts);
        Assert.Null(merged.Hooks);
        Assert.Null(merged.AdditionalGids);
    }

    [Fact]
    public void Appended_entities_are_copies_so_later_changes_to_the_source_do_not_leak_in()
    {
        var source = Gpu(0);
        var merged = new ContainerEdits();
        SpecTransforms.Append(merged, source);
        source.DeviceNodes![0].Path = "/dev/changed";
        source.Mounts![0].Options!.Add("rw");
        source.Hooks![0].Args!.Add("--changed");
        source.Env![0] = "CHANGED=1";
        source.AdditionalGids!.Add(7);
        Assert.Equal("/dev/nvidia0", merged.DeviceNodes![0].Path);
        Assert.Equal(["ro", "bind"], merged.Mounts![0].Options);
        Assert.Equal(["nvidia-cdi-hook", "chmod", "/dev/nvidia0"], merged.Hooks![0].Args);
        Assert.Equal("GPU0=1", merged.Env![0]);
        Assert.Equal([44u, 100u], merged.AdditionalGids);
    }

    [Fact]
    public void Clone_is_deep_and_keeps_missing_lists_missing()
    {
        var original = Gpu(3);
        original.Mounts = null;
        var copy = SpecTransforms.Clone(original);
        Assert.Null(copy.Mounts);
        Assert.NotSame(original.DeviceNodes![0], copy.DeviceNodes![0]);
        Assert.NotSame(original.Hooks![0].Args, copy.Hooks![0].Args);
        Assert.Equal(SpecJson.Key(original.DeviceNodes[0]), SpecJson.Key(copy.DeviceNodes[0]));
        Assert.Equal(SpecJson.Key(original.Hooks[0]), SpecJson.Key(copy.Hooks[0]));
    }

    // Merged and deduplicated: an entity is the same only when every field is; env strings compare whole.
    static readonly Dictionary<string, (ContainerEdits First, ContainerEdits Second, int Count)> DuplicateCases = new()
    {
        // what: first edits, second edits, count after dedupe of the list in question
        ["env: same string"] = (new() { Env = ["A=1"] }, new() { Env = ["A=1"] }, 1),
        ["env: same name, other value"] = (new() { Env = ["A=1"] }, new() { Env = ["A=2"] }, 2),
        ["mounts: same paths and options"] = (new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Options = ["ro", "bind"] }] }, new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Options = ["ro", "bind"] }] }, 1),
        ["mounts: options in another order"] = (new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Options = ["ro", "bind"] }] }, new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Options = ["bind", "ro"] }] }, 2),
        ["mounts: no options and empty options"] = (new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a" }] }, new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/a", Options = [] }] }, 2),
        ["mounts: same target from another host path"] = (new() { Mounts = [new() { HostPath = "/a", ContainerPath = "/c" }] }, new() { Mounts = [new() { HostPath = "/b", ContainerPath = "/c" }] }, 2),
        ["device nodes: same node"] = (new() { DeviceNodes = [new() { Path = "/dev/nvidiactl", Major = 195, Minor = 255 }] }, new() { DeviceNodes = [new() { Path = "/dev/nvidiactl", Major = 195, Minor = 255 }] }, 1),
        ["device nodes: other permissions"] = (new() { DeviceNodes = [new() { Path = "/dev/nvidiactl" }] }, new() { DeviceNodes = [new() { Path = "/dev/nvidiactl", Permissions = "rw" }] }, 2),
        ["hooks: same hook"] = (new() { Hooks = [new() { HookName = "createContainer", Path = "/h", Args = ["h", "x"] }] }, new() { Hooks = [new() { HookName = "createContainer", Path = "/h", Args = ["h", "x"] }] }, 1),
        ["hooks: other lifecycle"] = (new() { Hooks = [new() { HookName = "createContainer", Path = "/h" }] }, new() { Hooks = [new() { HookName = "startContainer", Path = "/h" }] }, 2),
        ["hooks: other timeout"] = (new() { Hooks = [new() { HookName = "createContainer", Path = "/h" }] }, new() { Hooks = [new() { HookName = "createContainer", Path = "/h", Timeout = 1 }] }, 2),
        ["gids: same gid"] = (new() { AdditionalGids = [44] }, new() { AdditionalGids = [44] }, 1),
    };

    public static TheoryData<string> Duplicates => new(DuplicateCases.Keys);

    [Theory, MemberData(nameof(Duplicates))]
    public void Merged_edits_keep_one_of_each_identical_entity(string what)
    {
        var (first, second, count) = DuplicateCases[what];
        var merged = new ContainerEdits();
        SpecTransforms.Append(merged, first);
        SpecTransforms.Append(merged, second);
        var deduped = SpecTransforms.Dedupe(merged);
        var list = what.Split(':')[0] switch
        {
            "env" => deduped.Env!.Count,
            "mounts" => deduped.Mounts!.Count,
            "device nodes" => deduped.DeviceNodes!.Count,
            "hooks" => deduped.Hooks!.Count,
            _ => deduped.AdditionalGids!.Count,
        };
        Assert.Equal(count, list);
    }

    [Fact]
    public void Deduplication_keeps_the_first_occurrence_in_place_and_leaves_its_input_alone()
    {
        var merged = new ContainerEdits();
        foreach (var i in new[] { 1, 0, 1 }) SpecTransforms.Append(merged, Gpu(i));
        var deduped = SpecTransforms.Dedupe(merged);
        Assert.Equal(["GPU1=1", "NVIDIA_VISIBLE_DEVICES=void", "GPU0=1"], deduped.Env);
        Assert.Equal(["/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia0"], deduped.DeviceNodes!.Select(n => n.Path));
        Assert.Equal(["/dev/nvidia1", "/dev/nvidia0"], deduped.Hooks!.Select(h => h.Args![^1]));
        Assert.Single(deduped.Mounts!);
        Assert.Equal([44u, 100u, 101u], deduped.AdditionalGids); // distinct and sorted
        Assert.Equal(6, merged.Env!.Count);
        Assert.Equal([44u, 101u, 44u, 100u, 44u, 101u], merged.AdditionalGids);
    }

    [Fact]
    public void Deduplication_and_sorting_keep_missing_lists_missing()
    {
        var edits = new ContainerEdits { Env = ["A=1"] };
        var result = SpecTransforms.SortEdits(SpecTransforms.Dedupe(edits));
        Assert.Equal(["A=1"], result.Env);
        Assert.Null(result.DeviceNodes);
        Assert.Null(result.Mounts);
        Assert.Null(result.Hooks);
        Assert.Null(result.AdditionalGids);
    }
}

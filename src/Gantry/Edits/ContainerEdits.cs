using System.Text.Json.Serialization;

namespace Gantry.Edits;

// The one intermediate representation of "what goes into a container": the CDI containerEdits model.
// Discovery produces it, CDI specs name it, appliers (spec writer, OCI editor, live configure) consume it.
// Plain mutable data so that the JSON and YAML source generators can read and write it without reflection.

internal sealed class ContainerEdits
{
    public List<string>? Env { get; set; }
    public List<DeviceNode>? DeviceNodes { get; set; }
    public List<Hook>? Hooks { get; set; }
    public List<Mount>? Mounts { get; set; }
    public List<uint>? AdditionalGids { get; set; }

    [JsonIgnore] // derived, not part of the CDI schema
    public bool IsEmpty =>
        (Env is null || Env.Count == 0) && (DeviceNodes is null || DeviceNodes.Count == 0) &&
        (Hooks is null || Hooks.Count == 0) && (Mounts is null || Mounts.Count == 0) &&
        (AdditionalGids is null || AdditionalGids.Count == 0);
}

internal sealed class DeviceNode
{
    public string Path { get; set; } = "";
    public string? HostPath { get; set; }
    public string? Type { get; set; }
    public long? Major { get; set; }
    public long? Minor { get; set; }
    public uint? FileMode { get; set; }
    public string? Permissions { get; set; }
    public uint? Uid { get; set; }
    public uint? Gid { get; set; }
}

internal sealed class Mount
{
    public string HostPath { get; set; } = "";
    public string ContainerPath { get; set; } = "";
    public List<string>? Options { get; set; }
    public string? Type { get; set; }
}

internal sealed class Hook
{
    public string HookName { get; set; } = "";
    public string Path { get; set; } = "";
    public List<string>? Args { get; set; }
    public List<string>? Env { get; set; }
    public int? Timeout { get; set; }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Gantry.Edits;

namespace Gantry.Cdi;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(Spec))]
internal sealed partial class CdiJsonContext : JsonSerializerContext;

// CDI specs as compact JSON, byte-compatible with Go's json.Marshal of the CDI types: struct field order,
// `omitempty` semantics (empty lists, maps and strings and zero major/minor are left out) and Go's escaping.
internal static class SpecJson
{
    static readonly JsonSerializerOptions Options = new(CdiJsonContext.Default.Options)
    {
        Encoder = GoJsonEncoder.Instance,
        TypeInfoResolver = CdiJsonContext.Default.WithAddedModifier(OmitEmpty),
    };

    static readonly JsonTypeInfo<Spec> SpecInfo = (JsonTypeInfo<Spec>)Options.GetTypeInfo(typeof(Spec));
    static readonly JsonTypeInfo<DeviceNode> NodeInfo = (JsonTypeInfo<DeviceNode>)Options.GetTypeInfo(typeof(DeviceNode));
    static readonly JsonTypeInfo<Mount> MountInfo = (JsonTypeInfo<Mount>)Options.GetTypeInfo(typeof(Mount));
    static readonly JsonTypeInfo<Hook> HookInfo = (JsonTypeInfo<Hook>)Options.GetTypeInfo(typeof(Hook));

    public static string Serialize(Spec spec)
    {
        // Go sorts map keys and always writes the spec-level edits (omitempty does nothing for a struct).
        var copy = SpecTransforms.Clone(spec);
        copy.ContainerEdits ??= new();
        copy.Annotations = Sorted(copy.Annotations);
        foreach (var d in copy.Devices) d.Annotations = Sorted(d.Annotations);
        return JsonSerializer.Serialize(copy, SpecInfo);
    }

    static Dictionary<string, string>? Sorted(Dictionary<string, string>? map) =>
        map?.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>Throws JsonException (with line/position) on bad JSON or unknown fields.</summary>
    public static Spec? Deserialize(string text) => JsonSerializer.Deserialize(text, SpecInfo);

    // Identity keys for de-duplication: two entities are the same when their JSON is the same.
    // Identity keys for dedupe: every field, joined with a separator no path or argument contains. Built by hand
    // because serializing each entity to JSON cost more than the rest of `cdi generate` together.
    const char Sep = '\u0001', ListSep = '\u0002';
    public static string Key(DeviceNode n) => string.Join(Sep, n.Path, n.HostPath, n.Type, n.Major, n.Minor, n.FileMode, n.Permissions, n.Uid, n.Gid);
    public static string Key(Mount m) => string.Join(Sep, m.HostPath, m.ContainerPath, m.Type, Join(m.Options));
    public static string Key(Hook h) => string.Join(Sep, h.HookName, h.Path, Join(h.Args), Join(h.Env), h.Timeout);
    static string Join(List<string>? list) => list is null ? "\u0003" : string.Join(ListSep, list);

    static void OmitEmpty(JsonTypeInfo info)
    {
        foreach (var p in info.Properties)
        {
            if (AlwaysWritten(info.Type, p.Name)) continue;
            p.ShouldSerialize = static (_, value) => value switch
            {
                null => false,
                string s => s.Length > 0,
                System.Collections.ICollection c => c.Count > 0,
                long l => l != 0, // major/minor are plain int64 with omitempty in Go; pointers (uid, gid, fileMode) are not
                _ => true,
            };
        }
    }

    static bool AlwaysWritten(Type type, string name) =>
        (type == typeof(Spec) && name is "cdiVersion" or "kind" or "devices" or "containerEdits") ||
        (type == typeof(Device) && name is "name" or "containerEdits") ||
        (type == typeof(DeviceNode) && name is "path") ||
        (type == typeof(Mount) && name is "hostPath" or "containerPath") ||
        (type == typeof(Hook) && name is "hookName" or "path");
}

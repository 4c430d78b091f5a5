using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gantry.Oci;

// The few runtime-spec objects Gantry writes into config.json. Everything else in the spec stays a JsonNode
// exactly as the engine wrote it; these types only shape what is added. ToNode builds the same JSON as the
// source-generated context, by hand: the shim runs once per container, and building the serializer's type
// metadata costs more than the whole edit.

internal sealed record OciHook(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("args")] List<string>? Args,
    [property: JsonPropertyName("env")] List<string>? Env,
    [property: JsonPropertyName("timeout")] int? Timeout)
{
    public JsonObject ToNode()
    {
        var o = new JsonObject { ["path"] = Path };
        if (Args is not null) o["args"] = OciNodes.Strings(Args);
        if (Env is not null) o["env"] = OciNodes.Strings(Env);
        if (Timeout is { } t) o["timeout"] = t;
        return o;
    }
}

internal sealed record OciMount(
    [property: JsonPropertyName("destination")] string Destination,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("options")] List<string>? Options)
{
    public JsonObject ToNode()
    {
        var o = new JsonObject { ["destination"] = Destination };
        if (Type is not null) o["type"] = Type;
        o["source"] = Source;
        if (Options is not null) o["options"] = OciNodes.Strings(Options);
        return o;
    }
}

internal sealed record OciDevice(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("major")] long Major,
    [property: JsonPropertyName("minor")] long Minor,
    [property: JsonPropertyName("fileMode")] uint? FileMode,
    [property: JsonPropertyName("uid")] uint? Uid,
    [property: JsonPropertyName("gid")] uint? Gid)
{
    public JsonObject ToNode()
    {
        var o = new JsonObject { ["path"] = Path, ["type"] = Type, ["major"] = Major, ["minor"] = Minor };
        if (FileMode is { } m) o["fileMode"] = m;
        if (Uid is { } u) o["uid"] = u;
        if (Gid is { } g) o["gid"] = g;
        return o;
    }
}

internal sealed record OciDeviceRule(
    [property: JsonPropertyName("allow")] bool Allow,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("major")] long Major,
    [property: JsonPropertyName("minor")] long Minor,
    [property: JsonPropertyName("access")] string Access)
{
    public JsonObject ToNode() => new() { ["allow"] = Allow, ["type"] = Type, ["major"] = Major, ["minor"] = Minor, ["access"] = Access };
}

internal static class OciNodes
{
    public static JsonArray Strings(IEnumerable<string> values)
    {
        var a = new JsonArray();
        foreach (var v in values) a.Add((JsonNode)JsonValue.Create(v));
        return a;
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciHook))]
[JsonSerializable(typeof(OciMount))]
[JsonSerializable(typeof(OciDevice))]
[JsonSerializable(typeof(OciDeviceRule))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

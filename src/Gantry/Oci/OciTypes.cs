using System.Text.Json.Serialization;

namespace Gantry.Oci;

// The few runtime-spec objects Gantry writes into config.json. Everything else in the spec stays a JsonNode
// exactly as the engine wrote it; these types only shape what is added.

internal sealed record OciHook(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("args")] List<string>? Args,
    [property: JsonPropertyName("env")] List<string>? Env,
    [property: JsonPropertyName("timeout")] int? Timeout);

internal sealed record OciMount(
    [property: JsonPropertyName("destination")] string Destination,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("options")] List<string>? Options);

internal sealed record OciDevice(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("major")] long Major,
    [property: JsonPropertyName("minor")] long Minor,
    [property: JsonPropertyName("fileMode")] uint? FileMode,
    [property: JsonPropertyName("uid")] uint? Uid,
    [property: JsonPropertyName("gid")] uint? Gid);

internal sealed record OciDeviceRule(
    [property: JsonPropertyName("allow")] bool Allow,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("major")] long Major,
    [property: JsonPropertyName("minor")] long Minor,
    [property: JsonPropertyName("access")] string Access);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciHook))]
[JsonSerializable(typeof(OciMount))]
[JsonSerializable(typeof(OciDevice))]
[JsonSerializable(typeof(OciDeviceRule))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

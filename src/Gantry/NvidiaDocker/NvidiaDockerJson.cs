using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Gantry.Cdi;

namespace Gantry.NvidiaDocker;

// Docker plugin and REST bodies are PascalCase (Go field names) with null for missing values, compact, with
// Go's escaping and the trailing newline Go's json.Encoder writes. Requests are read case-insensitively, as Go does.
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(GpuInfoReport))]
[JsonSerializable(typeof(GpuStatusReport))]
[JsonSerializable(typeof(DockerCliArgs))]
[JsonSerializable(typeof(PluginRequest))]
[JsonSerializable(typeof(PluginErrorReply))]
[JsonSerializable(typeof(PluginMountReply))]
[JsonSerializable(typeof(PluginGetReply))]
[JsonSerializable(typeof(PluginListReply))]
[JsonSerializable(typeof(PluginActivateReply))]
[JsonSerializable(typeof(PluginCapabilitiesReply))]
internal sealed partial class NvidiaDockerJsonContext : JsonSerializerContext;

internal static class NvidiaDockerJson
{
    static readonly JsonSerializerOptions Options = new(NvidiaDockerJsonContext.Default.Options) { Encoder = GoJsonEncoder.Instance };
    static readonly NvidiaDockerJsonContext Context = new(Options);

    /// <summary>UTF-8 JSON followed by "\n", like Go's json.NewEncoder(w).Encode(v).</summary>
    public static byte[] Encode<T>(T value, JsonTypeInfo<T> info)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(value, info);
        var body = new byte[json.Length + 1];
        json.CopyTo(body, 0);
        body[^1] = (byte)'\n';
        return body;
    }

    public static NvidiaDockerJsonContext Types => Context;

    public static string EncodeText<T>(T value, JsonTypeInfo<T> info) => Encoding.UTF8.GetString(Encode(value, info));
}

/// <summary>What every volume request carries that the plugin reads: the volume name.</summary>
internal sealed record PluginRequest(string? Name);

internal sealed record PluginErrorReply(string? Err);
internal sealed record PluginMountReply(string? Mountpoint, string? Err);
internal sealed record PluginVolume(string Name, string Mountpoint);
internal sealed record PluginGetReply(PluginVolume? Volume, string? Err);
internal sealed record PluginListReply(IReadOnlyList<PluginVolume>? Volumes, string? Err);
internal sealed record PluginActivateReply(IReadOnlyList<string> Implements);
internal sealed record PluginCapabilities(string Scope);
internal sealed record PluginCapabilitiesReply(PluginCapabilities Capabilities);

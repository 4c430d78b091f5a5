using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Cli;

namespace Gantry.Hooks;

/// <summary>The OCI state a runtime passes to hooks on stdin, plus crun's non-standard "root".</summary>
internal sealed record ContainerState
{
    [JsonPropertyName("ociVersion")] public string? OciVersion { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("pid")] public int Pid { get; init; }
    [JsonPropertyName("bundle")] public string? Bundle { get; init; }
    /// <summary>runc before 17.06 (Docker's fork) named the bundle this way; the legacy hook still accepts it.</summary>
    [JsonPropertyName("bundlePath")] public string? BundlePath { get; init; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; init; }
    [JsonPropertyName("root")] public string? Root { get; init; }

    /// <summary>Reads the state from a file, or from stdin when the name is "" or "-".</summary>
    public static ContainerState Load(string? file, Func<Stream> stdin)
    {
        var fromStdin = string.IsNullOrEmpty(file) || file == "-";
        try
        {
            using var stream = fromStdin ? stdin() : File.OpenRead(file!);
            return JsonSerializer.Deserialize(stream, HookJsonContext.Default.ContainerState)
                ?? throw new GantryException($"container state from {(fromStdin ? "stdin" : file)} is null");
        }
        catch (JsonException e)
        {
            throw new GantryException($"failed to decode container state from {(fromStdin ? "stdin" : file)}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to read container state from {(fromStdin ? "stdin" : file)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The container's root filesystem on the host: state.root if the runtime set it, else root.path from
    /// &lt;bundle&gt;/config.json; a relative root is taken relative to the bundle.
    /// </summary>
    public string ResolveRoot()
    {
        if (!string.IsNullOrEmpty(Root)) return Absolute(Root);
        if (string.IsNullOrEmpty(Bundle)) throw new GantryException("container state has neither a root nor a bundle path");
        var config = Path.Combine(Bundle, "config.json");
        OciRootOnly? spec;
        try
        {
            using var s = File.OpenRead(config);
            spec = JsonSerializer.Deserialize(s, HookJsonContext.Default.OciRootOnly);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new GantryException($"failed to load OCI spec {config}: {e.Message}", e);
        }
        var path = spec?.Root?.Path;
        if (string.IsNullOrEmpty(path)) throw new GantryException($"OCI spec {config} has no root.path");
        return Absolute(path);
    }

    string Absolute(string path) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Bundle ?? Directory.GetCurrentDirectory(), path));
}

/// <summary>Only the part of config.json the hooks need: decoding nothing else keeps unknown content harmless.</summary>
internal sealed record OciRootOnly
{
    [JsonPropertyName("root")] public OciRoot? Root { get; init; }
}

internal sealed record OciRoot
{
    [JsonPropertyName("path")] public string? Path { get; init; }
    [JsonPropertyName("readonly")] public bool Readonly { get; init; }
}

[JsonSourceGenerationOptions(AllowTrailingCommas = true, ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(OciRootOnly))]
internal sealed partial class HookJsonContext : JsonSerializerContext;

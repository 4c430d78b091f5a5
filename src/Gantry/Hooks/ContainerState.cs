using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Common;

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

    // Read as a document, not through the serializer: every hook process decodes this once, and building the
    // serializer's metadata for it cost more than all the hook's own work.
    static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Reads the state from a file, or from stdin when the name is "" or "-".</summary>
    public static ContainerState Load(string? file, Func<Stream> stdin)
    {
        var fromStdin = string.IsNullOrEmpty(file) || file == "-";
        try
        {
            using var stream = fromStdin ? stdin() : File.OpenRead(file!);
            using var doc = JsonDocument.Parse(stream, DocumentOptions);
            var o = doc.RootElement;
            if (o.ValueKind == JsonValueKind.Null) throw new GantryException($"container state from {(fromStdin ? "stdin" : file)} is null");
            if (o.ValueKind != JsonValueKind.Object) throw new JsonException($"the state is a JSON {o.ValueKind.ToString().ToLowerInvariant()}, not an object");
            return new ContainerState
            {
                OciVersion = Str(o, "ociVersion"), Id = Str(o, "id"), Status = Str(o, "status"), Bundle = Str(o, "bundle"), BundlePath = Str(o, "bundlePath"), Root = Str(o, "root"),
                Pid = o.TryGetProperty("pid", out var pid) && pid.ValueKind != JsonValueKind.Null ? Int(pid) : 0,
                Annotations = o.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object
                    ? a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new JsonException($"annotation {p.Name} is not a string"))
                    : null,
            };
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
        string? path;
        try
        {
            using var s = File.OpenRead(config);
            using var doc = JsonDocument.Parse(s, DocumentOptions);
            path = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("root", out var root) && root.ValueKind == JsonValueKind.Object
                ? Str(root, "path") : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            throw new GantryException($"failed to load OCI spec {config}: {e.Message}", e);
        }
        if (string.IsNullOrEmpty(path)) throw new GantryException($"OCI spec {config} has no root.path");
        return Absolute(path);
    }

    static string? Str(JsonElement o, string name) =>
        !o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw new JsonException($"\"{name}\" is not a string");

    static int Int(JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw new JsonException("\"pid\" is not a 32-bit integer");

    string Absolute(string path) =>
        Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Bundle ?? Directory.GetCurrentDirectory(), path));
}

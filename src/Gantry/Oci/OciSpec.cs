using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gantry.Oci;

/// <summary>A config.json that cannot be used: says which file and why.</summary>
internal sealed class OciSpecException(string message, Exception? inner = null) : Exception(message, inner);

// config.json as a JSON tree: whatever the engine wrote, Gantry writes back, field for field, numbers as written.
// Strictness (a deliberate departure, see docs/runtime.md): the original rejects any field its vendored
// runtime-spec does not know, because Go would drop it on rewrite. Gantry loses nothing on rewrite, so it
// rejects only unknown top-level keys (a typo or a spec newer than 1.3) unless
// features.allow-unknown-oci-spec-fields is set, and checks the types of every part it edits.
internal sealed class OciSpec
{
    static readonly string[] TopLevelKeys =
        ["ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks", "annotations", "linux", "solaris", "windows", "vm", "zos", "freebsd"];

    public JsonObject Root { get; }
    public string Path { get; }

    OciSpec(JsonObject root, string path) { Root = root; Path = path; }

    public static OciSpec Load(string path, bool allowUnknownFields)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OciSpecException($"cannot read the OCI spec {path}: {e.Message}", e);
        }
        return Parse(bytes, path, allowUnknownFields);
    }

    public static OciSpec Parse(ReadOnlySpan<byte> json, string path, bool allowUnknownFields)
    {
        // JsonNode checks a string's UTF-8 only when the string is read, long after parsing: refuse it here.
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new OciSpecException($"the OCI spec {path} is not valid UTF-8");
        JsonNode? node;
        try { node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new OciSpecException($"the OCI spec {path} is not valid JSON: {e.Message}", e);
        }
        if (node is not JsonObject root) throw new OciSpecException($"the OCI spec {path} is not a JSON object");
        var spec = new OciSpec(root, path);
        spec.Validate(allowUnknownFields);
        return spec;
    }

    void Validate(bool allowUnknownFields)
    {
        // Touching each key also makes JsonObject build its dictionary, which is where duplicate keys surface.
        try { _ = Root.Count; foreach (var _ in Root) { } }
        catch (ArgumentException e) { throw Bad($"duplicate key ({e.Message})"); }
        if (!allowUnknownFields)
            foreach (var (key, _) in Root)
                if (!TopLevelKeys.Contains(key))
                    throw Bad($"unknown field \"{key}\" (set features.allow-unknown-oci-spec-fields = true in config.toml to accept it)");
        Expect<JsonObject>(Root, "process");
        if (Root["process"] is JsonObject p)
        {
            ExpectStrings(p, "env", "process.env");
            Expect<JsonObject>(p, "user");
            Expect<JsonObject>(p, "capabilities");
        }
        ExpectObjects(Root, "mounts", "mounts");
        Expect<JsonObject>(Root, "hooks");
        Expect<JsonObject>(Root, "annotations");
        Expect<JsonObject>(Root, "linux");
        if (Root["linux"] is JsonObject l)
        {
            ExpectObjects(l, "devices", "linux.devices");
            if (Expect<JsonObject>(l, "resources") is { } r) ExpectObjects(r, "devices", "linux.resources.devices");
        }
    }

    T? Expect<T>(JsonObject parent, string key) where T : JsonNode
    {
        var n = parent[key];
        if (n is null or T) return n as T;
        throw Bad($"\"{key}\" has the wrong type ({n.GetValueKind()})");
    }

    void ExpectStrings(JsonObject parent, string key, string where)
    {
        if (parent[key] is null) return;
        if (parent[key] is not JsonArray a || a.Any(i => i?.GetValueKind() != JsonValueKind.String))
            throw Bad($"\"{where}\" must be a list of strings");
    }

    void ExpectObjects(JsonObject parent, string key, string where)
    {
        if (parent[key] is null) return;
        if (parent[key] is not JsonArray a || a.Any(i => i is not JsonObject))
            throw Bad($"\"{where}\" must be a list of objects");
    }

    OciSpecException Bad(string why) => new($"the OCI spec {Path} is not usable: {why}");

    /// <summary>Compact JSON and a newline, as the original writes it; non-ASCII kept as is.</summary>
    public byte[] Serialize()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true }))
            Root.WriteTo(w);
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    // Typed views of what the runtime reads.
    public JsonObject Object(params string[] path)
    {
        var node = Root;
        foreach (var key in path)
        {
            if (node[key] is not JsonObject child) { child = new JsonObject(); node[key] = child; }
            node = child;
        }
        return node;
    }

    public JsonArray Array(JsonObject parent, string key)
    {
        if (parent[key] is JsonArray a) return a;
        var created = new JsonArray();
        parent[key] = created;
        return created;
    }

    public IReadOnlyList<string> Env =>
        (Root["process"] as JsonObject)?["env"] is JsonArray a ? a.Select(n => n!.GetValue<string>()).ToList() : [];

    public IReadOnlyDictionary<string, string> Annotations =>
        Root["annotations"] is JsonObject o
            ? o.Where(kv => kv.Value?.GetValueKind() == JsonValueKind.String).ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>())
            : new Dictionary<string, string>();

    public IReadOnlyList<(string Source, string Destination)> Mounts =>
        Root["mounts"] is JsonArray a
            ? a.OfType<JsonObject>().Select(m => (Str(m, "source") ?? "", Str(m, "destination") ?? "")).ToList()
            : [];

    /// <summary>CAP_SYS_ADMIN in the bounding set: what the original calls a privileged container.</summary>
    public bool IsPrivileged =>
        (Root["process"] as JsonObject)?["capabilities"] is JsonObject caps && caps["bounding"] is JsonArray b
        && b.Any(n => n?.GetValueKind() == JsonValueKind.String && n.GetValue<string>() == "CAP_SYS_ADMIN");

    public static string? Str(JsonObject o, string key) => o[key]?.GetValueKind() == JsonValueKind.String ? o[key]!.GetValue<string>() : null;

    public static long? Num(JsonObject o, string key) => o[key]?.GetValueKind() == JsonValueKind.Number ? o[key]!.GetValue<long>() : null;
}

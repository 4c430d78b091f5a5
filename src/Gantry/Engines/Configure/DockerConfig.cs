using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gantry.Common;

namespace Gantry.Engines.Configure;

// /etc/docker/daemon.json: runtimes.<name> = {"args": [], "path": <path>}, default-runtime, features.cdi.
// Unlike the original (which re-sorts keys and replaces other feature flags), every other key keeps its place and
// the file keeps its indentation; features are merged.
internal static class DockerConfig
{
    public static string? Edit(string? existing, string source, ConfigureOptions o)
    {
        var root = Parse(existing, source);
        var before = root.DeepClone();
        if (o.Undo)
        {
            if (root["runtimes"] is JsonObject rts)
            {
                rts.Remove(o.RuntimeName);
                if (rts.Count == 0) root.Remove("runtimes");
            }
            if (root["default-runtime"] is JsonValue v && v.TryGetValue<string>(out var d) && d == o.RuntimeName) root.Remove("default-runtime");
            if (o.SwarmKind is { } kind) SetGenericResources(root, kind, []);
        }
        else
        {
            if (root["runtimes"] is not JsonObject runtimes) root["runtimes"] = runtimes = new JsonObject();
            var entry = new JsonObject { ["args"] = new JsonArray(), ["path"] = o.RuntimePath };
            if (!JsonNode.DeepEquals(runtimes[o.RuntimeName], entry)) runtimes[o.RuntimeName] = entry;
            // Swarm services cannot choose a runtime: a node that gives tasks GPUs runs them with nvidia by default.
            if (o.SetAsDefault || o.SwarmKind is not null) root["default-runtime"] = o.RuntimeName;
            if (o.SwarmKind is { } kind) SetGenericResources(root, kind, o.SwarmIds);
            if (o.EnableCdi)
            {
                if (root["features"] is not JsonObject features) root["features"] = features = new JsonObject();
                features["cdi"] = true;
            }
        }
        if (existing is not null && JsonNode.DeepEquals(before, root)) return existing;
        if (root.Count == 0) return null;
        return Write(root, existing);
    }

    public const string GenericResourcesKey = "node-generic-resources";

    // The entries "KIND=..." of the kind become exactly `ids` (in order, after the other kinds' entries, which stay
    // as they are); no entry left removes the key. An unchanged list keeps its place and form.
    static void SetGenericResources(JsonObject root, string kind, IReadOnlyList<string> ids)
    {
        var existing = root[GenericResourcesKey] is JsonArray a ? a.Select(n => n?.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null).ToList() : [];
        if (root[GenericResourcesKey] is { } node && node is not JsonArray)
            throw new GantryException($"daemon.json: {GenericResourcesKey} must be a list of \"KIND=VALUE\" strings");
        if (existing.Any(e => e is null)) throw new GantryException($"daemon.json: {GenericResourcesKey} must be a list of \"KIND=VALUE\" strings");
        var prefix = kind + "=";
        var wanted = existing.Where(e => !e!.StartsWith(prefix, StringComparison.Ordinal)).Concat(ids.Select(id => prefix + id)).ToList();
        if (wanted.SequenceEqual(existing)) return;
        if (wanted.Count == 0) { root.Remove(GenericResourcesKey); return; }
        root[GenericResourcesKey] = new JsonArray(wanted.Select(w => (JsonNode)JsonValue.Create(w!)!).ToArray());
    }

    /// <summary>The kinds of node-generic-resources whose values are GPU or MIG UUIDs, in order of first entry.</summary>
    public static IReadOnlyList<string> GpuResourceKinds(string? text, string source)
    {
        if (text is null) return [];
        var root = Parse(text, source);
        if (root[GenericResourcesKey] is not JsonArray a) return [];
        return a.Select(n => n?.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : "")
            .Select(e => e.Split('=', 2)).Where(p => p.Length == 2 && (p[1].StartsWith("GPU-", StringComparison.OrdinalIgnoreCase) || p[1].StartsWith("MIG-", StringComparison.OrdinalIgnoreCase)))
            .Select(p => p[0]).Distinct(StringComparer.Ordinal).ToList();
    }

    static JsonObject Parse(string? text, string source)
    {
        if (string.IsNullOrWhiteSpace(text)) return new JsonObject();
        try
        {
            var node = JsonNode.Parse(text);
            if (node is not JsonObject obj) throw new GantryException($"{source}: the top level must be a JSON object");
            // Touch every member now so duplicate keys fail here, not half-way through the edit.
            _ = obj.Count;
            return obj;
        }
        catch (JsonException e)
        {
            throw new GantryException($"{source}:{(e.LineNumber ?? 0) + 1}:{(e.BytePositionInLine ?? 0) + 1}: invalid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]}", e);
        }
        catch (ArgumentException e)
        {
            throw new GantryException($"{source}: invalid JSON: {e.Message}", e);
        }
    }

    static string Write(JsonObject root, string? existing)
    {
        var (ch, size) = Indentation(existing);
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
               { Indented = true, IndentCharacter = ch, IndentSize = size, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            root.WriteTo(w);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        // Like the original, a new file has no final newline; an existing file keeps whatever it had.
        return existing is not null && existing.EndsWith('\n') ? text + "\n" : text;
    }

    static (char, int) Indentation(string? text)
    {
        if (text is null) return (' ', 4);
        foreach (var line in text.Split('\n').Skip(1))
        {
            if (line.Length == 0 || !char.IsWhiteSpace(line[0])) continue;
            if (line[0] == '\t') return ('\t', 1);
            var n = line.TakeWhile(c => c == ' ').Count();
            if (n > 0) return (' ', n);
        }
        return (' ', 4);
    }
}

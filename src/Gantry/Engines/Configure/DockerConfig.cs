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
        }
        else
        {
            if (root["runtimes"] is not JsonObject runtimes) root["runtimes"] = runtimes = new JsonObject();
            var entry = new JsonObject { ["args"] = new JsonArray(), ["path"] = o.RuntimePath };
            if (!JsonNode.DeepEquals(runtimes[o.RuntimeName], entry)) runtimes[o.RuntimeName] = entry;
            if (o.SetAsDefault) root["default-runtime"] = o.RuntimeName;
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

using System.Text.Json.Nodes;
using Gantry.Hooks;
using Gantry.Oci;

namespace Gantry.Runtime;

// runc starts every createContainer hook as its own process, and a GPU container gets six or seven of them
// (create-symlinks, enable-cuda-compat, update-ldcache, …). Consecutive hooks that run this very binary with
// the same environment become one `hook chain a … --then b …` entry: the same work, in the same order, with the
// same stop-at-first-failure, for one process start. Hooks of any other binary (the original's nvidia-cdi-hook
// named in a CDI spec, say) and hooks with a timeout are left as they are.
internal static class HookMerger
{
    /// <summary>Merges runs of our own hooks under hooks.createContainer; returns how many entries were saved.</summary>
    public static int Merge(OciSpec spec, string selfExecutable, Func<string, string?> realPath)
    {
        if (spec.Root["hooks"] is not JsonObject hooks || hooks["createContainer"] is not JsonArray list || list.Count < 2) return 0;
        string? RealPath(string path) => path.StartsWith('/') ? realPath(path) : null;
        var self = RealPath(selfExecutable);
        if (self is null) return 0;
        var merged = new List<JsonNode?>();
        var run = new List<(JsonObject Hook, List<string> Prefix, List<string> Tail)>();
        void Flush()
        {
            if (run.Count >= 2 && ChainHook.Join(run.Select(r => (IReadOnlyList<string>)r.Tail)) is { } args)
            {
                var first = (JsonObject)run[0].Hook.DeepClone();
                first["args"] = new JsonArray([.. run[0].Prefix.Append(ChainHook.VerbName).Concat(args).Select(a => (JsonNode)JsonValue.Create(a))]);
                merged.Add(first);
            }
            else merged.AddRange(run.Select(r => r.Hook.DeepClone()));
            run.Clear();
        }
        foreach (var node in list)
        {
            if (node is JsonObject h && Split(h, self, RealPath) is { } parts &&
                (run.Count == 0 || (Same(run[0].Hook, h, "path") && Same(run[0].Hook, h, "env") && run[0].Prefix.SequenceEqual(parts.Prefix))))
            {
                run.Add((h, parts.Prefix, parts.Tail));
                continue;
            }
            Flush();
            if (node is JsonObject again && Split(again, self, RealPath) is { } p) run.Add((again, p.Prefix, p.Tail));
            else merged.Add(node?.DeepClone());
        }
        Flush();
        var saved = list.Count - merged.Count;
        if (saved > 0) hooks["createContainer"] = new JsonArray([.. merged]);
        return saved;
    }

    // A hook of this binary: args start with its name ("nvidia-ctk hook" or "nvidia-cdi-hook"), then the hook name.
    static (List<string> Prefix, List<string> Tail)? Split(JsonObject hook, string self, Func<string, string?> realPath)
    {
        if (hook["timeout"] is not null || OciSpec.Str(hook, "path") is not { } path || realPath(path) != self) return null;
        if (hook["args"] is not JsonArray a || a.Any(x => x?.GetValueKind() != System.Text.Json.JsonValueKind.String)) return null;
        var args = a.Select(x => x!.GetValue<string>()).ToList();
        // argv[0] picks the front end: nvidia-cdi-hook takes the hook name next, nvidia-ctk and gantry after "hook".
        var prefixLength = args.Count == 0 ? 0 : Path.GetFileName(args[0]) switch
        {
            "nvidia-cdi-hook" => 1,
            "nvidia-ctk" or "gantry" when args.Count > 1 && args[1] == "hook" => 2,
            _ => 0,
        };
        if (prefixLength == 0 || args.Count <= prefixLength || args[prefixLength] == ChainHook.VerbName) return null;
        return (args[..prefixLength], args[prefixLength..]);
    }

    static bool Same(JsonObject a, JsonObject b, string key) => JsonNode.DeepEquals(a[key], b[key]);

}

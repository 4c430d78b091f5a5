using System.Text.Json.Nodes;
using Gantry.Hooks;
using Gantry.Oci;

namespace Gantry.Runtime;

// In a user-namespaced container runc starts the createContainer hooks inside the container's user namespace, as
// the container's root: a host uid that may not read the bundle's config.json (Docker with userns-remap and its own
// containerd keeps bundles under a root-only directory), so a hook that looks its root up there fails. The shim
// read that very config.json and knows the root, so it hands it to the hooks of this binary through their
// environment (HookContext.ContainerRootVariable); the hooks then read only the state on their stdin.
internal static class ContainerRootHandover
{
    /// <summary>True when the spec asks for a user namespace.</summary>
    public static bool IsUserNamespaced(OciSpec spec) =>
        spec.Root["linux"]?["namespaces"] is JsonArray namespaces && namespaces.OfType<JsonObject>().Any(n => OciSpec.Str(n, "type") == "user");

    /// <summary>Adds the container root to every hook of this binary in a user-namespaced spec; how many got it.</summary>
    public static int Apply(OciSpec spec, string bundle, string selfExecutable, Func<string, string?> realPath)
    {
        if (!IsUserNamespaced(spec) || spec.Root["root"] is not JsonObject root || OciSpec.Str(root, "path") is not { Length: > 0 } path) return 0;
        if (spec.Root["hooks"] is not JsonObject hooks || realPath(selfExecutable) is not { } self) return 0;
        var rootfs = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(bundle, path));
        var variable = $"{HookContext.ContainerRootVariable}={rootfs}";
        var count = 0;
        foreach (var (_, list) in hooks)
        {
            if (list is not JsonArray entries) continue;
            foreach (var entry in entries.OfType<JsonObject>())
            {
                if (OciSpec.Str(entry, "path") is not { } hookPath || !hookPath.StartsWith('/') || realPath(hookPath) != self) continue;
                if (entry["env"] is not JsonArray env) entry["env"] = env = new JsonArray();
                if (env.Any(e => e?.GetValueKind() == System.Text.Json.JsonValueKind.String && e.GetValue<string>().StartsWith(HookContext.ContainerRootVariable + "=", StringComparison.Ordinal))) continue;
                env.Add((JsonNode)JsonValue.Create(variable));
                count++;
            }
        }
        return count;
    }
}

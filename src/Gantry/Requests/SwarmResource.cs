using Gantry.Common;

namespace Gantry.Requests;

/// <summary>
/// Docker Swarm generic resources: a node advertises its GPUs as "KIND=GPU-uuid" in daemon.json, and Swarm hands a
/// task its ids in DOCKER_RESOURCE_KIND (KIND as written, dashes included). config.toml's swarm-resource lists the
/// variables the runtime and the hook read instead of NVIDIA_VISIBLE_DEVICES. Two mistakes of the original are
/// errors here rather than "every GPU": a GPU id in a DOCKER_RESOURCE_* variable that swarm-resource does not list
/// (the kinds of daemon.json and config.toml differ), and an id in a listed variable that is no device of this node.
/// </summary>
internal static class SwarmResource
{
    public const string Prefix = "DOCKER_RESOURCE_";
    public const string DefaultKind = "NVIDIA-GPU";

    public static string Variable(string kind) => Prefix + kind;

    public static string Kind(string variable) =>
        variable.StartsWith(Prefix, StringComparison.Ordinal) ? variable[Prefix.Length..] : variable;

    /// <summary>A kind as Swarm takes it in node-generic-resources: no '=', ',' or whitespace, not empty.</summary>
    public static bool IsValidKind(string kind) =>
        kind.Length > 0 && !kind.Any(ch => ch is '=' or ',' || char.IsWhiteSpace(ch) || char.IsControl(ch));

    static bool IsGpuUuid(string id) =>
        id.StartsWith("GPU-", StringComparison.OrdinalIgnoreCase) || id.StartsWith("MIG-", StringComparison.OrdinalIgnoreCase);

    static IEnumerable<string> Items(string value) =>
        value.Split(',').Select(i => i.Trim()).Where(i => i.Length > 0);

    /// <summary>
    /// Throws when the container has a DOCKER_RESOURCE_* variable holding GPU UUIDs that <paramref name="listed"/>
    /// (swarm-resource) does not name: Swarm gave the task GPUs that nothing would read, and the image's own
    /// NVIDIA_VISIBLE_DEVICES (often "all") would win.
    /// </summary>
    public static void CheckListed(ContainerFacts facts, IReadOnlyList<string> listed)
    {
        foreach (var e in facts.Env)
        {
            var eq = e.IndexOf('=');
            if (eq <= 0) continue;
            var name = e[..eq];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || listed.Contains(name, StringComparer.Ordinal)) continue;
            var gpus = Items(e[(eq + 1)..]).Where(IsGpuUuid).ToList();
            if (gpus.Count == 0) continue;
            var configured = listed.Count == 0 ? "is not set" : $"lists {string.Join(",", listed)}";
            throw new GantryException(
                $"swarm resource {Kind(name)}: Swarm gave this task {string.Join(",", gpus)} in {name}, but swarm-resource in config.toml {configured}; " +
                $"refusing to give it every GPU (set swarm-resource = \"{name}\", e.g. with 'nvidia-ctk runtime configure --runtime=docker --swarm-resource-kind={Kind(name)}')");
        }
    }

    /// <summary>Throws, naming the kind and the id, for the first id of a swarm variable that is no device of this node.</summary>
    /// <param name="where">Where the ids were looked for, said in the error after the node's devices (optional).</param>
    public static void CheckKnown(IReadOnlyList<KeyValuePair<string, string>> sources, Func<string, bool> isKnown, IReadOnlyList<string> nodeDevices,
        string? where = null)
    {
        foreach (var (name, value) in sources)
            foreach (var id in Items(value))
            {
                if (id is "all" or "none" or "void" || isKnown(id)) continue;
                var have = nodeDevices.Count == 0 ? "this node has no GPUs" : $"this node has {string.Join(",", nodeDevices)}";
                if (where is not null) have += "; " + where;
                throw new GantryException($"swarm resource {Kind(name)}: unknown GPU {id} in {name} ({have}); " +
                                          "check the node-generic-resources of this node's daemon.json");
            }
    }
}

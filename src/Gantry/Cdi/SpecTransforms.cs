using Gantry.Edits;

namespace Gantry.Cdi;

// Spec assembly as the original does it before writing: dedupe, hoist nothing but drop from devices what the
// common edits already give, sort. Every function returns a new model and leaves its input alone.
internal static class SpecTransforms
{
    /// <summary>Dedupe, then remove common entities from devices, then sort.</summary>
    public static Spec Simplify(Spec spec) => Sort(RemoveCommonFromDevices(Dedupe(spec)));

    public static Spec Dedupe(Spec spec) => Map(spec, Dedupe);

    /// <summary>Entities (by JSON identity) and env strings appear once, first occurrence kept; GIDs sorted.</summary>
    public static ContainerEdits Dedupe(ContainerEdits e) => new()
    {
        Env = Distinct(e.Env, s => s),
        DeviceNodes = Distinct(e.DeviceNodes, SpecJson.Key),
        Hooks = Distinct(e.Hooks, SpecJson.Key),
        Mounts = Distinct(e.Mounts, SpecJson.Key),
        AdditionalGids = e.AdditionalGids is null ? null : e.AdditionalGids.Distinct().Order().ToList(),
    };

    /// <summary>Drops from each device what the spec-level edits already contain, unless that empties the device.</summary>
    public static Spec RemoveCommonFromDevices(Spec spec)
    {
        var common = spec.ContainerEdits;
        if (common is null || common.IsEmpty) return Map(spec, Clone);
        var env = new HashSet<string>(common.Env ?? [], StringComparer.Ordinal);
        var nodes = (common.DeviceNodes ?? []).Select(SpecJson.Key).ToHashSet(StringComparer.Ordinal);
        var hooks = (common.Hooks ?? []).Select(SpecJson.Key).ToHashSet(StringComparer.Ordinal);
        var mounts = (common.Mounts ?? []).Select(SpecJson.Key).ToHashSet(StringComparer.Ordinal);
        var gids = (common.AdditionalGids ?? []).ToHashSet();
        var result = Clone(spec);
        foreach (var d in result.Devices)
        {
            var e = d.ContainerEdits;
            var reduced = new ContainerEdits
            {
                Env = Keep(e.Env, x => !env.Contains(x)),
                DeviceNodes = Keep(e.DeviceNodes, x => !nodes.Contains(SpecJson.Key(x))),
                Hooks = Keep(e.Hooks, x => !hooks.Contains(SpecJson.Key(x))),
                Mounts = Keep(e.Mounts, x => !mounts.Contains(SpecJson.Key(x))),
                AdditionalGids = Keep(e.AdditionalGids, x => !gids.Contains(x)),
            };
            if (!reduced.IsEmpty) d.ContainerEdits = reduced;
        }
        return result;
    }

    /// <summary>Devices by name (byte order); device nodes and mounts by path depth, then path; env and hooks untouched.</summary>
    public static Spec Sort(Spec spec)
    {
        var result = Map(spec, SortEdits);
        result.Devices.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return result;
    }

    public static ContainerEdits SortEdits(ContainerEdits e)
    {
        var r = Clone(e);
        r.DeviceNodes = r.DeviceNodes?.OrderBy(n => CleanPath(n.Path), PathOrder.Instance).ToList();
        r.Mounts = r.Mounts?.OrderBy(m => CleanPath(m.ContainerPath), PathOrder.Instance).ToList();
        return r;
    }

    /// <summary>
    /// Adds the device "all": every device's edits concatenated, then deduplicated and sorted. Returns the
    /// spec unchanged (a copy) when a device named "all" already exists or there are no devices.
    /// </summary>
    public static Spec AddMergedAllDevice(Spec spec, string name = "all")
    {
        var result = Clone(spec);
        if (result.Devices.Count == 0 || result.Devices.Any(d => d.Name == name)) return result;
        var merged = new ContainerEdits();
        foreach (var d in result.Devices) Append(merged, d.ContainerEdits);
        result.Devices.Add(new Device { Name = name, ContainerEdits = SortEdits(Dedupe(merged)) });
        return result;
    }

    /// <summary>Appends b's entities to a (a is changed; the lists are new where they were null).</summary>
    public static void Append(ContainerEdits a, ContainerEdits? b)
    {
        if (b is null) return;
        if (b.Env is { Count: > 0 }) (a.Env ??= []).AddRange(b.Env);
        if (b.DeviceNodes is { Count: > 0 }) (a.DeviceNodes ??= []).AddRange(b.DeviceNodes.Select(Clone));
        if (b.Hooks is { Count: > 0 }) (a.Hooks ??= []).AddRange(b.Hooks.Select(Clone));
        if (b.Mounts is { Count: > 0 }) (a.Mounts ??= []).AddRange(b.Mounts.Select(Clone));
        if (b.AdditionalGids is { Count: > 0 }) (a.AdditionalGids ??= []).AddRange(b.AdditionalGids);
    }

    /// <summary>Go's filepath.Clean: lexical, no file system access.</summary>
    public static string CleanPath(string path)
    {
        if (path.Length == 0) return ".";
        var rooted = path[0] == '/';
        var parts = new List<string>();
        foreach (var p in path.Split('/'))
        {
            if (p.Length == 0 || p == ".") continue;
            if (p == "..")
            {
                if (parts.Count > 0 && parts[^1] != "..") parts.RemoveAt(parts.Count - 1);
                else if (!rooted) parts.Add("..");
                continue;
            }
            parts.Add(p);
        }
        var joined = string.Join('/', parts);
        return rooted ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    sealed class PathOrder : IComparer<string>
    {
        public static readonly PathOrder Instance = new();
        public int Compare(string? x, string? y)
        {
            var dx = x?.Count(c => c == '/') ?? 0;
            var dy = y?.Count(c => c == '/') ?? 0;
            return dx != dy ? dx.CompareTo(dy) : string.CompareOrdinal(x, y);
        }
    }

    static Spec Map(Spec spec, Func<ContainerEdits, ContainerEdits> f) => new()
    {
        CdiVersion = spec.CdiVersion,
        Kind = spec.Kind,
        Annotations = spec.Annotations is null ? null : new(spec.Annotations),
        Devices = spec.Devices.Select(d => new Device
        {
            Name = d.Name,
            Annotations = d.Annotations is null ? null : new(d.Annotations),
            ContainerEdits = f(d.ContainerEdits ?? new()),
        }).ToList(),
        ContainerEdits = spec.ContainerEdits is null ? null : f(spec.ContainerEdits),
    };

    public static Spec Clone(Spec spec) => Map(spec, Clone);

    public static ContainerEdits Clone(ContainerEdits e) => new()
    {
        Env = e.Env?.ToList(),
        DeviceNodes = e.DeviceNodes?.Select(Clone).ToList(),
        Hooks = e.Hooks?.Select(Clone).ToList(),
        Mounts = e.Mounts?.Select(Clone).ToList(),
        AdditionalGids = e.AdditionalGids?.ToList(),
    };

    static DeviceNode Clone(DeviceNode n) => new()
    {
        Path = n.Path, HostPath = n.HostPath, Type = n.Type, Major = n.Major, Minor = n.Minor,
        FileMode = n.FileMode, Permissions = n.Permissions, Uid = n.Uid, Gid = n.Gid,
    };

    static Hook Clone(Hook h) => new() { HookName = h.HookName, Path = h.Path, Args = h.Args?.ToList(), Env = h.Env?.ToList(), Timeout = h.Timeout };

    static Mount Clone(Mount m) => new() { HostPath = m.HostPath, ContainerPath = m.ContainerPath, Options = m.Options?.ToList(), Type = m.Type };

    static List<T>? Distinct<T>(List<T>? items, Func<T, string> key)
    {
        if (items is null) return null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return items.Where(x => seen.Add(key(x))).ToList();
    }

    static List<T>? Keep<T>(List<T>? items, Func<T, bool> keep) => items?.Where(keep).ToList();
}

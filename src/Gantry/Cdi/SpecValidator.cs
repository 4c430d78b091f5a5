using Gantry.Edits;

namespace Gantry.Cdi;

/// <summary>One thing wrong with a spec, and where: "devices[2].containerEdits.deviceNodes[0].path".</summary>
internal sealed record SpecProblem(string Location, string Message)
{
    public override string ToString() => Location.Length == 0 ? Message : $"{Location}: {Message}";
}

// The checks a CDI consumer makes before it trusts a spec, collected rather than stopping at the first.
internal static class SpecValidator
{
    public static readonly IReadOnlySet<string> HookNames = new HashSet<string>(StringComparer.Ordinal)
        { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };

    public static List<SpecProblem> Validate(Spec spec)
    {
        var problems = new List<SpecProblem>();
        void Add(string where, string what) => problems.Add(new SpecProblem(where, what));

        if (string.IsNullOrEmpty(spec.CdiVersion)) Add("cdiVersion", "must be set");
        else if (!SpecVersion.IsKnown(spec.CdiVersion))
            Add("cdiVersion", $"unsupported version \"{spec.CdiVersion}\" (known: {string.Join(", ", SpecVersion.Known)})");
        else if (SpecVersion.Minimum(spec) is var min && SpecVersion.Compare(min, spec.CdiVersion) > 0)
            Add("cdiVersion", $"the content needs at least {min}, but the spec declares {spec.CdiVersion}");

        if (!QualifiedName.TryParseKind(spec.Kind ?? "", out _, out _, out var kindError)) Add("kind", kindError);

        if (spec.Devices is not { Count: > 0 }) Add("devices", "at least one device is required");
        else
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < spec.Devices.Count; i++)
            {
                var d = spec.Devices[i];
                var at = $"devices[{i}]";
                if (QualifiedName.ValidateDeviceName(d.Name ?? "") is string nameError) Add(at + ".name", nameError);
                else if (seen.TryGetValue(d.Name!, out var first)) Add(at + ".name", $"duplicate device name \"{d.Name}\" (also devices[{first}])");
                else seen[d.Name!] = i;
                if (d.ContainerEdits is null || d.ContainerEdits.IsEmpty) Add(at + ".containerEdits", "a device must have at least one edit");
                else ValidateEdits(d.ContainerEdits, at + ".containerEdits", Add);
            }
        }
        if (spec.ContainerEdits is not null) ValidateEdits(spec.ContainerEdits, "containerEdits", Add);
        return problems;
    }

    static void ValidateEdits(ContainerEdits e, string at, Action<string, string> add)
    {
        for (var i = 0; i < (e.Env?.Count ?? 0); i++)
            ValidateEnv(e.Env![i], $"{at}.env[{i}]", add);
        for (var i = 0; i < (e.DeviceNodes?.Count ?? 0); i++)
        {
            var n = e.DeviceNodes![i];
            var where = $"{at}.deviceNodes[{i}]";
            if (string.IsNullOrEmpty(n.Path)) add(where + ".path", "must be set");
            else if (!n.Path.StartsWith('/')) add(where + ".path", "must be absolute");
            if (!string.IsNullOrEmpty(n.HostPath) && !n.HostPath.StartsWith('/')) add(where + ".hostPath", "must be absolute");
            if (n.Type is { Length: > 0 } t && t is not ("b" or "c" or "u" or "p"))
                add(where + ".type", $"invalid device type \"{t}\" (b, c, u or p)");
            if (n.Permissions is { Length: > 0 } p && p.Any(c => c is not ('r' or 'w' or 'm')))
                add(where + ".permissions", $"invalid permissions \"{p}\" (any of r, w, m)");
        }
        for (var i = 0; i < (e.Hooks?.Count ?? 0); i++)
        {
            var h = e.Hooks![i];
            var where = $"{at}.hooks[{i}]";
            if (!HookNames.Contains(h.HookName ?? ""))
                add(where + ".hookName", $"unknown hook \"{h.HookName}\" (one of {string.Join(", ", HookNames)})");
            if (string.IsNullOrEmpty(h.Path)) add(where + ".path", "must be set");
            else if (!h.Path.StartsWith('/')) add(where + ".path", "must be absolute");
            if (h.Timeout is <= 0) add(where + ".timeout", "must be greater than zero");
            for (var j = 0; j < (h.Env?.Count ?? 0); j++) ValidateEnv(h.Env![j], $"{where}.env[{j}]", add);
        }
        for (var i = 0; i < (e.Mounts?.Count ?? 0); i++)
        {
            var m = e.Mounts![i];
            var where = $"{at}.mounts[{i}]";
            if (string.IsNullOrEmpty(m.HostPath)) add(where + ".hostPath", "must be set");
            if (string.IsNullOrEmpty(m.ContainerPath)) add(where + ".containerPath", "must be set");
        }
    }

    static void ValidateEnv(string env, string where, Action<string, string> add)
    {
        var eq = env.IndexOf('=');
        if (eq < 0) add(where, $"\"{env}\" is not of the form NAME=VALUE");
        else if (eq == 0) add(where, $"\"{env}\" has an empty name");
    }
}

using Gantry.Common;
using Gantry.Config;
using Tomlyn.Model;

namespace Gantry.Engines.Configure;

// containerd's config.toml, versions 1–3. The runtime table inherits the options of the default runtime
// (default_runtime_name unless it is an nvidia one, else runc, else crun) and points BinaryName at our runtime.
// v2/v3 write a drop-in holding a copy of the whole CRI plugin table plus the edits (containerd before 2.1 replaces
// plugin tables instead of merging them) and add `<drop-in dir>/*.toml` to the top-level `imports`.
internal static class ContainerdConfig
{
    public const string RuntimeType = "io.containerd.runc.v2";

    public static long Version(TomlTable source, bool sourceEmpty, string name) => sourceEmpty ? 2 : source.TryGetValue("version", out var v)
        ? v as long? ?? throw new GantryException($"{name}: version must be an integer, not {v}")
        : 1;

    public static string CriPlugin(long version) => version switch
    {
        1 => "cri",
        2 => "io.containerd.grpc.v1.cri",
        _ => "io.containerd.cri.v1.runtime",
    };

    /// <summary>Applies configure (or undo) to <paramref name="target"/>, reading inherited options from <paramref name="source"/>.</summary>
    public static void Edit(ITomlTarget target, TomlTable source, long version, ConfigureOptions o, Log log, bool writeVersion = true)
    {
        var cri = CriPlugin(version);
        string[] containerd = ["plugins", cri, "containerd"];
        string[] runtimes = [.. containerd, "runtimes"];
        string[] runtime = [.. runtimes, o.RuntimeName];
        string[] defaultName = [.. containerd, "default_runtime_name"];
        if (o.Undo)
        {
            target.Remove(runtime);
            if (target.Get(defaultName) is string d && d == o.RuntimeName) target.Remove(defaultName);
            target.PruneEmpty(runtimes);
            return;
        }
        var table = Inherited(source, runtimes, defaultName, log);
        if (table.TryGetValue("runtime_type", out var rt) is false || rt is "") table["runtime_type"] = RuntimeType;
        if (!table.TryGetValue("options", out var opt) || opt is not TomlTable options) table["options"] = options = new TomlTable();
        options["BinaryName"] = o.RuntimePath;
        if (version == 1) options["Runtime"] = o.RuntimePath;
        ReplaceTable(target, runtime, table);
        // A user's file keeps its own version line (absent means 1); a new file or drop-in states it.
        if (writeVersion) target.Set(["version"], version);
        if (o.SetAsDefault) target.Set(defaultName, o.RuntimeName);
        else if (target.Get(defaultName) is string d && d == o.RuntimeName) target.Remove(defaultName);
        if (o.EnableCdi) target.Set(version == 1 ? [.. containerd, "enable_cdi"] : ["plugins", cri, "enable_cdi"], true);
    }

    static TomlTable Inherited(TomlTable source, string[] runtimes, string[] defaultName, Log log)
    {
        var candidates = new List<string>();
        if (ToolkitConfigFile.TryGet(source, defaultName, out var d) && d is string name && name.Length > 0 && !name.StartsWith("nvidia", StringComparison.Ordinal))
            candidates.Add(name);
        candidates.AddRange(["runc", "crun"]);
        foreach (var c in candidates)
            if (ToolkitConfigFile.TryGet(source, [.. runtimes, c], out var t) && t is TomlTable found)
                return (TomlTable)TomlModelTarget.Clone(found);
        log.Warning("Could not infer options from runtimes [" + string.Join(" ", candidates) + "]; using defaults");
        return new TomlTable
        {
            ["runtime_type"] = RuntimeType, ["runtime_root"] = "", ["runtime_engine"] = "", ["privileged_without_host_devices"] = false,
        };
    }

    /// <summary>Makes the table at <paramref name="path"/> equal to <paramref name="desired"/>, touching only what differs.</summary>
    internal static void ReplaceTable(ITomlTarget target, string[] path, TomlTable desired)
    {
        if (target.Get(path) is TomlTable existing)
            foreach (var leaf in Leaves(existing, []))
                if (!ToolkitConfigFile.TryGet(desired, leaf, out _)) target.Remove([.. path, .. leaf]);
        target.Set(path, desired);
    }

    static IEnumerable<string[]> Leaves(TomlTable t, string[] prefix)
    {
        foreach (var (k, v) in t)
        {
            if (v is TomlTable sub) foreach (var l in Leaves(sub, [.. prefix, k])) yield return l;
            else yield return [.. prefix, k];
        }
    }

    /// <summary>The top-level file's imports: add (or on undo, remove) the drop-in glob.</summary>
    /// <param name="keepVersion">On undo, a version line alone is kept: the file was the user's (configure kept a backup of it).</param>
    public static void EditImports(TomlEditor top, bool wasEmpty, long version, string glob, bool undo, bool keepVersion = false)
    {
        var imports = (top.Get("imports") as TomlArray)?.OfType<string>().ToList() ?? new List<string>();
        if (undo)
        {
            if (!imports.Remove(glob)) return;
            if (imports.Count == 0) top.Remove("imports"); else top.Set(["imports"], imports);
            // A file that held nothing but what configure added goes back to nothing.
            if (!keepVersion && top.Model.Count == 1 && top.Model.ContainsKey("version")) top.Remove("version");
            return;
        }
        if (imports.Contains(glob)) return;
        imports.Add(glob);
        top.Set(["imports"], imports);
        if (wasEmpty) top.Set(["version"], version);
    }
}

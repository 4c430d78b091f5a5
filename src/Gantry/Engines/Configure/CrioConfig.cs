using Gantry.Config;
using Tomlyn.Model;

namespace Gantry.Engines.Configure;

// CRI-O: [crio.runtime.runtimes.<name>] copied from the default runtime's table (so monitor_path and friends carry
// over), with runtime_path and runtime_type = "oci"; set-as-default writes crio.runtime.default_runtime.
internal static class CrioConfig
{
    public static void Edit(ITomlTarget target, TomlTable source, ConfigureOptions o)
    {
        string[] runtimes = ["crio", "runtime", "runtimes"];
        string[] defaultName = ["crio", "runtime", "default_runtime"];
        if (o.Undo)
        {
            target.Remove([.. runtimes, o.RuntimeName]);
            if (target.Get(defaultName) is string d && d == o.RuntimeName) target.Remove(defaultName);
            target.PruneEmpty(runtimes);
            return;
        }
        var candidates = new List<string>();
        if (ToolkitConfigFile.TryGet(source, defaultName, out var dn) && dn is string name && name.Length > 0 && !name.StartsWith("nvidia", StringComparison.Ordinal))
            candidates.Add(name);
        candidates.AddRange(["runc", "crun"]);
        var table = new TomlTable();
        foreach (var c in candidates)
            if (ToolkitConfigFile.TryGet(source, [.. runtimes, c], out var t) && t is TomlTable found) { table = (TomlTable)TomlModelTarget.Clone(found); break; }
        table["runtime_path"] = o.RuntimePath;
        table["runtime_type"] = "oci";
        ContainerdConfig.ReplaceTable(target, [.. runtimes, o.RuntimeName], table);
        if (o.SetAsDefault) target.Set(defaultName, o.RuntimeName);
    }
}

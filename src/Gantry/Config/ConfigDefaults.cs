using Tomlyn.Model;

namespace Gantry.Config;

/// <summary>The host facts the original's defaults depend on; injectable so tests do not depend on the build host.</summary>
internal sealed record ConfigHostFacts(bool LdconfigRealExists, bool IsSuse)
{
    public static ConfigHostFacts Detect() => new(File.Exists("/sbin/ldconfig.real"), ReadIsSuse("/etc/os-release"));

    static bool ReadIsSuse(string osRelease)
    {
        try
        {
            var idLike = File.ReadLines(osRelease).FirstOrDefault(l => l.StartsWith("ID_LIKE=", StringComparison.Ordinal));
            return idLike is not null && idLike.Contains("suse", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

// The config.toml the package install step writes: the defaults as a tree, with a fixed set of keys written as
// comments while they are unset, empty or equal to the documented example value.
internal static class ConfigDefaults
{
    /// <summary>Keys written commented, with the value the comment shows.</summary>
    static readonly (string Path, object Example)[] Commented =
    [
        ("swarm-resource", "DOCKER_RESOURCE_GPU"),
        ("accept-nvidia-visible-devices-envvar-when-unprivileged", true),
        ("accept-nvidia-visible-devices-as-volume-mounts", false),
        ("nvidia-container-cli.root", "/run/nvidia/driver"),
        ("nvidia-container-cli.path", "/usr/bin/nvidia-container-cli"),
        ("nvidia-container-cli.debug", "/var/log/nvidia-container-toolkit.log"),
        ("nvidia-container-cli.ldcache", "/etc/ld.so.cache"),
        ("nvidia-container-cli.no-cgroups", false),
        ("nvidia-container-cli.user", "root:video"),
        ("nvidia-container-runtime.debug", "/var/log/nvidia-container-runtime.log"),
    ];

    public static ToolkitConfig Create(ConfigHostFacts host)
    {
        var c = new ToolkitConfig();
        c.NvidiaContainerCli.Ldconfig = host.LdconfigRealExists ? "@/sbin/ldconfig.real" : "@/sbin/ldconfig";
        if (host.IsSuse) c.NvidiaContainerCli.User = "root:video";
        return c;
    }

    /// <summary>The config as the tree the original marshals: omitted-when-empty keys left out.</summary>
    public static TomlTable ToTree(ToolkitConfig config)
    {
        var root = new TomlTable();
        foreach (var key in ConfigKeys.All)
        {
            var v = key.Get(config);
            if (v is null) continue;
            if (key.Path == "nvidia-container-cli.no-pivot" && v is false) continue;
            if (key.Kind == ConfigKeyKind.String && v is "" && key.Path.EndsWith("compat-container-root", StringComparison.Ordinal)) continue;
            SetPath(root, key.Parts, v is List<string> l ? ToArray(l) : v);
        }
        // The original always writes [nvidia-container-runtime.modes] even when it only holds sub-tables.
        return root;
    }

    /// <summary>The tree with the documented keys turned into comments where the original comments them.</summary>
    public static string Render(TomlTable tree, ConfigHostFacts host)
    {
        foreach (var (path, example) in Commented)
        {
            var parts = path.Split('.');
            ToolkitConfigFile.TryGet(tree, parts, out var current);
            if (ShouldComment(path, example, current, host)) SetPath(tree, parts, new CommentedValue(example));
        }
        return GoTomlWriter.Write(tree, indent: "");
    }

    static bool ShouldComment(string path, object example, object? current, ConfigHostFacts host)
    {
        // On SUSE the original writes its root:video default as a real value, not as a comment.
        if (path == "nvidia-container-cli.user" && host.IsSuse) return false;
        if (path == "nvidia-container-runtime.debug" && current is "/dev/null") return true;
        return current is null or "" || Equals(current, example);
    }

    public static string DefaultText(ConfigHostFacts host) => Render(ToTree(Create(host)), host);

    internal static TomlArray ToArray(IEnumerable<string> items)
    {
        var a = new TomlArray();
        foreach (var s in items) a.Add(s);
        return a;
    }

    internal static void SetPath(TomlTable root, string[] parts, object value)
    {
        var t = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!t.TryGetValue(parts[i], out var next) || next is not TomlTable nt) { nt = new TomlTable(); t[parts[i]] = nt; }
            t = nt;
        }
        t[parts[^1]] = value;
    }

    internal static bool RemovePath(TomlTable root, string[] parts)
    {
        var t = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!t.TryGetValue(parts[i], out var next) || next is not TomlTable nt) return false;
            t = nt;
        }
        return t.Remove(parts[^1]);
    }
}

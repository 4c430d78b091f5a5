using Gantry.Common;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

// Builds the createContainer hook entries of a spec, honouring --disable-hook/--enable-hook.
// chmod is off unless enabled explicitly, as in the original.
internal sealed class HookFactory
{
    /// <summary>Every hook a spec can name (nvidia-cdi-hook's commands that generate emits), for --disable-hook/--enable-hook.</summary>
    public static readonly string[] KnownHooks =
        ["create-symlinks", "update-ldcache", "enable-cuda-compat", "disable-device-node-modification", "update-application-profile", "chmod"];

    readonly string _path;
    readonly HashSet<string> _disabled;
    readonly HashSet<string> _enabled;

    public HookFactory(string hookPath, IEnumerable<string> disabled, IEnumerable<string> enabled)
    {
        _path = hookPath;
        _enabled = enabled.ToHashSet(StringComparer.Ordinal);
        if (_enabled.Contains("all")) throw new UsageException("enabling all hooks is not supported");
        _disabled = disabled.Append("chmod").ToHashSet(StringComparer.Ordinal);
    }

    public string HookPath => _path;
    /// <summary>Passed to update-ldcache as --ldconfig-path when set.</summary>
    public string? LdconfigPath { get; init; }

    public bool IsEnabled(string name) =>
        _enabled.Contains(name) || !(_disabled.Contains(name) || _disabled.Contains("all"));

    /// <summary>The hook, or null when it is disabled.</summary>
    public Hook? Create(string name, params IEnumerable<string> args)
    {
        if (!IsEnabled(name)) return null;
        var binary = Path.GetFileName(_path);
        var all = new List<string> { binary };
        if (binary == "nvidia-ctk") all.Add("hook");
        all.Add(name);
        all.AddRange(args);
        return new Hook { HookName = "createContainer", Path = _path, Args = all, Env = ["NVIDIA_CTK_DEBUG=false"] };
    }

    public Hook? CreateSymlinks(IEnumerable<(string Target, string Link)> links)
    {
        var distinct = links.Select(l => $"{l.Target}::{l.Link}").Distinct().ToList();
        return distinct.Count == 0 ? null : Create("create-symlinks", distinct.SelectMany(l => new[] { "--link", l }));
    }

    /// <summary>The chmod hook (755) for the directories /dev/dri and /dev/nvidia-caps that hold some of these nodes; null if none or disabled.</summary>
    public Hook? Chmod(IEnumerable<string> containerNodePaths)
    {
        var dirs = containerNodePaths.Select(p => Path.GetDirectoryName(p)!).Where(d => d is "/dev/dri" or "/dev/nvidia-caps").Distinct().ToList();
        return dirs.Count == 0 ? null : Create("chmod", new[] { "--mode", "755" }.Concat(dirs.SelectMany(d => new[] { "--path", d })));
    }

    /// <summary>Where the hook binary is: the flag, else nvidia-cdi-hook on PATH, else beside this executable, else /usr/bin.</summary>
    public static string ResolvePath(string? flag)
    {
        var name = string.IsNullOrEmpty(flag) ? "nvidia-cdi-hook" : flag;
        if (name.StartsWith('/')) return name;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (dir.StartsWith('/') && File.Exists(candidate)) return candidate;
        }
        var beside = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/bin", name);
        if (File.Exists(beside)) return beside;
        return name == "nvidia-ctk" ? "/usr/bin/nvidia-ctk" : "/usr/bin/" + name;
    }
}

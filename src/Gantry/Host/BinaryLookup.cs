using Gantry.Common;

namespace Gantry.Host;

// Finding the programs the shim execs or names in a spec, as the original does (toolkit.md §1.4 steps 3 and 5).
internal static class BinaryLookup
{
    internal static readonly string[] DefaultDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    static List<string> SearchDirs(string? pathVariable)
    {
        var dirs = (pathVariable ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var d in DefaultDirs) if (!dirs.Contains(d)) dirs.Add(d);
        return dirs;
    }

    /// <summary>Every directory whose entries can change what ResolveRuntime answers (for the fast-path record).</summary>
    public static IEnumerable<string> RuntimeSearchDirectories(IReadOnlyList<string> candidates, string? pathVariable) =>
        candidates.SelectMany(c => c.Contains('/') ? [Path.GetDirectoryName(Path.GetFullPath(c)) ?? "/"] : SearchDirs(pathVariable));

    /// <summary>The first candidate that is an executable file: a path with '/' as is, else searched in PATH then the defaults.</summary>
    public static string ResolveRuntime(IReadOnlyList<string> candidates, string? pathVariable)
    {
        var dirs = SearchDirs(pathVariable);
        foreach (var c in candidates)
        {
            if (c.Contains('/')) { if (IsExecutable(c)) return Path.GetFullPath(c); continue; }
            foreach (var d in dirs)
            {
                var p = Path.Combine(d, c);
                if (IsExecutable(p)) return Path.GetFullPath(p);
            }
        }
        throw new GantryException($"no runtime binary found from candidate list: [{string.Join(" ", candidates)}]; " +
            "install runc or crun, or name one in nvidia-container-runtime.runtimes in config.toml");
    }

    /// <summary>A helper binary (nvidia-ctk, the legacy hook): absolute as is, else PATH, else beside this executable, else /usr/bin.</summary>
    public static string ResolveHelper(string configured, string defaultName)
    {
        var name = string.IsNullOrEmpty(configured) ? defaultName : configured;
        if (name.StartsWith('/')) return name;
        foreach (var d in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(d, name);
            if (d.StartsWith('/') && IsExecutable(p)) return p;
        }
        // The shim is usually started by containerd's shim without the admin's PATH; its siblings are the next best.
        var beside = Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? "/usr/bin", Path.GetFileName(name));
        if (IsExecutable(beside)) return beside;
        return "/usr/bin/" + Path.GetFileName(name);
    }

    static bool IsExecutable(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return false; // also false for directories
            return (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

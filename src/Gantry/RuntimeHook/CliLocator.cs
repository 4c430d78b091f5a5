using Gantry.Common;
using Gantry.Host;

namespace Gantry.RuntimeHook;

// Where the hook finds nvidia-container-cli: nvidia-container-cli.path when set; else a search path made of
// the driver root's bin dirs, then $PATH, then the usual dirs (the CLI gets that PATH too, as in the original);
// else the CLI installed beside this executable (our own link in out/ or /usr/bin).
internal static class CliLocator
{
    public const string CliName = "nvidia-container-cli";

    /// <summary>The search path: &lt;root&gt;/dir for every dir (when root is not /), then $PATH, then the defaults not already in it.</summary>
    public static IReadOnlyList<string> SearchPath(string? driverRoot, string? pathVariable)
    {
        var dirs = (pathVariable ?? "").Split(':').ToList();
        if (dirs is [""]) dirs.Clear();
        foreach (var d in BinaryLookup.DefaultDirs) if (!dirs.Contains(d)) dirs.Add(d);
        if (string.IsNullOrEmpty(driverRoot) || driverRoot == "/") return dirs;
        return [.. dirs.Select(d => Path.Join(driverRoot, d)), .. dirs];
    }

    /// <summary>The CLI to exec and the PATH to give it (null: leave PATH as it is).</summary>
    public static (string Cli, string? Path) Locate(string? configuredPath, string? driverRoot, string? pathVariable, string? ownDirectory, IHookSyscalls os)
    {
        if (!string.IsNullOrEmpty(configuredPath)) return (configuredPath, null);
        var dirs = SearchPath(driverRoot, pathVariable);
        var searchPath = string.Join(":", dirs);
        // Relative entries are skipped: a CLI found through the hook's working directory (the bundle) is not trusted.
        foreach (var d in dirs.Where(d => d.StartsWith('/')))
        {
            var candidate = Path.Join(d, CliName);
            if (os.IsExecutableFile(candidate)) return (candidate, searchPath);
        }
        if (ownDirectory is not null && Path.Join(ownDirectory, CliName) is var beside && os.IsExecutableFile(beside))
            return (beside, searchPath);
        throw new GantryException($"cannot find {CliName} in {searchPath}{(ownDirectory is null ? "" : " or " + ownDirectory)}; " +
                                  "install it or set nvidia-container-cli.path in config.toml");
    }
}

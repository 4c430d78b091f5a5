namespace Gantry.Config;

// The values a key may take where the toolkit only knows a few (modes, log levels) or needs something that exists
// (a low-level runtime). `config --set` checks here, so that a bad value is refused when it is written rather than
// found by the next container start.
internal static class ConfigValues
{
    public const string Mode = "nvidia-container-runtime.mode";
    public const string LogLevel = "nvidia-container-runtime.log-level";
    public const string Runtimes = "nvidia-container-runtime.runtimes";

    static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        [Mode] = ["auto", "legacy", "csv", "cdi", "jit-cdi"],
        // logrus's levels, which the original's runtime parses (any case).
        [LogLevel] = ["panic", "fatal", "error", "warn", "warning", "info", "debug", "trace"],
        ["nvidia-container-runtime.modes.legacy.cuda-compat-mode"] = ["ldconfig", "mount", "hook", "disabled"],
    };

    /// <summary>The allowed values of a key that has a fixed set, else null.</summary>
    public static IReadOnlyList<string>? AllowedValues(string key) => Allowed.GetValueOrDefault(key);

    public static bool IsLogLevel(string? text) => text is not null && Allowed[LogLevel].Contains(text.ToLowerInvariant());

    /// <summary>Why <paramref name="value"/> cannot be written to <paramref name="key"/>; null when it can.</summary>
    public static string? Problem(ConfigKey key, object? value, string? pathVariable)
    {
        if (value is string s && Allowed.TryGetValue(key.Path, out var allowed))
        {
            var ok = key.Path == LogLevel ? IsLogLevel(s) : allowed.Contains(s);
            return ok ? null : $"'{s}' is not a valid {key.Path}: use one of {string.Join(", ", allowed)}";
        }
        if (key.Path == Runtimes && value is List<string> candidates)
        {
            if (candidates.Count == 0 || candidates.Any(c => c.Length == 0))
                return $"{key.Path} needs one or more low-level runtimes, e.g. runc:crun";
            if (!candidates.Any(c => Resolves(c, pathVariable)))
                return $"none of {string.Join(", ", candidates)} is an OCI runtime on this host (an executable path, or a name on PATH such as runc or crun)";
        }
        return null;
    }

    // As the runtime looks them up: a path with '/' as is, else PATH and then the usual sbin/bin directories.
    static bool Resolves(string candidate, string? pathVariable)
    {
        if (candidate.Contains('/')) return IsExecutable(candidate);
        string[] defaults = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
        return (pathVariable ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(defaults)
            .Any(d => IsExecutable(Path.Combine(d, candidate)));
    }

    static bool IsExecutable(string path)
    {
        try
        {
            return File.Exists(path) &&
                   (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

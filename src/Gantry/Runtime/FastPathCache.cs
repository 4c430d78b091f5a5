using System.Text;
using Gantry.Host;

namespace Gantry.Runtime;

// What the runtime launcher (native/runtime-launcher/launcher.c) replays for commands other than create: the
// low-level runtime this shim resolved for a config file and a PATH, with everything that resolution depended
// on (the config file's identity, size and mtime; the mtime of every directory it searched). The C side execs
// the runtime only while all of it still holds. Recorded only when such a command logs nothing, so skipping
// the C# shim loses no output. One small file per (config path, PATH) in /run/gantry/shim, root's, mode 0600.
internal static class FastPathCache
{
    public const string DirectoryVariable = "GANTRY_SHIM_CACHE_DIR";
    public const string DefaultDirectory = "/run/gantry/shim";
    const string Magic = "gantry-shim-fastpath 1\n";

    /// <summary>The file name: FNV-1a 64 of the config path, a NUL, and PATH, in hex (launcher.c computes the same).</summary>
    public static string Key(string configPath, string pathEnv)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(configPath + "\0" + pathEnv)) { h ^= b; h *= 0x100000001b3UL; }
        return h.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The config file's line, taken before the file is read (a later edit then invalidates the record).</summary>
    public static string? ConfigLine(string configPath) => Stat(configPath, out var c) switch
    {
        _ when configPath.Contains('\n') => null,
        0 => $"config {c.DevMajor} {c.DevMinor} {c.Ino} {c.Size} {c.MtimeSec} {c.MtimeNsec} {configPath}\n",
        Errno.ENOENT => $"config-missing {configPath}\n",
        _ => null,
    };

    /// <summary>The cache text, or null when something cannot be expressed (a newline in a path, a stat error).</summary>
    public static string? Content(string? configLine, string pathEnv, IEnumerable<string> searchedDirectories, string runtime)
    {
        if (configLine is null || new[] { pathEnv, runtime }.Concat(searchedDirectories).Any(p => p.Contains('\n')) || !runtime.StartsWith('/')) return null;
        var text = new StringBuilder(Magic);
        text.Append("path-env ").Append(pathEnv).Append('\n');
        text.Append(configLine);
        foreach (var dir in searchedDirectories.Distinct(StringComparer.Ordinal))
        {
            if (!dir.StartsWith('/')) return null; // relative PATH entries depend on the working directory
            switch (Stat(dir, out var d))
            {
                case 0 when (d.Mode & FileType.Mask) == FileType.Directory: text.Append($"dir {d.MtimeSec} {d.MtimeNsec} {dir}\n"); break;
                case Errno.ENOENT: text.Append($"dir-missing {dir}\n"); break;
                default: return null;
            }
        }
        text.Append("runtime ").Append(runtime).Append('\n');
        return text.ToString();
    }

    /// <summary>Writes (or leaves) the record for this resolution; never fails the command.</summary>
    public static void Record(string configPath, string? configLine, string pathEnv, IEnumerable<string> searchedDirectories, string runtime, RuntimeLog log)
    {
        try
        {
            var content = Content(configLine, pathEnv, searchedDirectories, runtime);
            if (content is null) return;
            var dir = Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } d ? d : DefaultDirectory;
            var file = Path.Combine(dir, Key(configPath, pathEnv));
            var existed = File.Exists(file);
            if (existed && File.ReadAllText(file) == content) return;
            if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            AtomicFile.Write(file, Encoding.UTF8.GetBytes(content), UnixFileMode.UserRead | UnixFileMode.UserWrite, durable: false);
            if (!existed) Prune(dir, file, MaxRecords);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Debug($"no fast-path record for the next commands: {e.Message}");
        }
    }

    /// <summary>Records kept at most: one per (config path, PATH) pair would otherwise grow without end on a host
    /// whose callers vary PATH or config paths. A record pruned costs only one slow start.</summary>
    public const int MaxRecords = 64;

    /// <summary>Removes the least recently written records beyond <paramref name="max"/>, never <paramref name="keep"/>.</summary>
    internal static void Prune(string dir, string keep, int max)
    {
        var records = new DirectoryInfo(dir).EnumerateFiles()
            .Where(f => f.Name.Length == 16 && f.Name.All(char.IsAsciiHexDigitLower) && f.FullName != Path.GetFullPath(keep))
            .OrderByDescending(f => f.LastWriteTimeUtc).ToList();
        foreach (var old in records.Skip(max - 1))
            try { old.Delete(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>stat (following links) of a host path; 0 or an errno.</summary>
    static int Stat(string path, out Interop.StatxTimes status) => Interop.StatTimes(path, out status);
}

using System.Runtime.InteropServices;
using System.Text;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

// Reading and extending the container's dynamic-linker configuration, every file through the confined resolver:
// /etc/ld.so.conf and the files it includes are the image's, so they are read as hostile input (bounded size,
// bounded include depth, no following out of the root).
internal static class LdsoConf
{
    const int MaxIncludeDepth = 8;

    public static string Triplet(Architecture arch) => arch == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
    public static string MuslArch(Architecture arch) => arch == Architecture.Arm64 ? "aarch64" : "x86_64";

    /// <summary>The container's default library directories, in the order written to zz-nvcr-*.conf.</summary>
    public static IReadOnlyList<string> SystemDirectories(bool debianLike, Architecture arch)
    {
        if (debianLike) return [$"/lib/{Triplet(arch)}", $"/usr/lib/{Triplet(arch)}", "/lib", "/usr/lib"];
        return arch == Architecture.Arm64
            ? ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]
            : ["/lib", "/usr/lib", "/lib64", "/usr/lib64", "/libx32", "/usr/libx32"];
    }

    /// <summary>Directories already named by /etc/ld.so.conf and everything it includes.</summary>
    public static HashSet<string> ConfiguredDirectories(ContainerRoot root, string confPath = "/etc/ld.so.conf")
    {
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        Visit(root, ContainerPath.Normalize(confPath), dirs, new HashSet<string>(StringComparer.Ordinal), 0);
        return dirs;
    }

    static void Visit(ContainerRoot root, string file, HashSet<string> dirs, HashSet<string> visited, int depth)
    {
        if (depth > MaxIncludeDepth || !visited.Add(file)) return;
        string text;
        try { text = Encoding.UTF8.GetString(root.ReadAll(file, 1 << 20)); }
        catch (IOException) { return; } // missing, dangling or not a regular file: ldconfig skips it too
        foreach (var raw in text.Split('\n'))
        {
            var hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            if (StartsWithWord(line, "include"))
            {
                foreach (var pattern in line["include".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                {
                    var abs = pattern.StartsWith('/') ? pattern : Path.GetDirectoryName(file) + "/" + pattern;
                    foreach (var match in Glob(root, abs)) Visit(root, match, dirs, visited, depth + 1);
                }
                continue;
            }
            if (StartsWithWord(line, "hwcap")) continue;
            var eq = line.IndexOf('=');
            dirs.Add(ContainerPath.Normalize(eq >= 0 ? line[..eq] : line));
        }
    }

    static bool StartsWithWord(string line, string word) =>
        line.StartsWith(word, StringComparison.Ordinal) && line.Length > word.Length && line[word.Length] is ' ' or '\t';

    /// <summary>Matches a pattern whose wildcards are in the last component (all ld.so.conf uses), sorted like glob(3).</summary>
    public static IEnumerable<string> Glob(ContainerRoot root, string pattern)
    {
        var normalized = ContainerPath.Normalize(pattern);
        var slash = normalized.LastIndexOf('/');
        var dir = slash <= 0 ? "/" : normalized[..slash];
        var namePattern = normalized[(slash + 1)..];
        if (dir.IndexOfAny(['*', '?', '[']) >= 0) return [];
        if (namePattern.IndexOfAny(['*', '?', '[']) < 0) return [normalized];
        if (!root.TryOpen(dir, O.Path | O.Directory, out var fd, out _)) return [];
        using (fd)
        {
            if (root.Sys.ListDirectory(fd!.Value, out var names) < 0) return [];
            return names.Where(n => (n[0] != '.' || namePattern[0] == '.') && Gantry.Discovery.Glob.Match(namePattern, n))
                .Order(StringComparer.Ordinal).Select(n => (dir == "/" ? "" : dir) + "/" + n).ToList();
        }
    }

}

namespace Gantry.Host;

/// <summary>Lexical helpers for paths inside a container root ("/etc/x" and "etc/x" mean the same file).</summary>
internal static class ContainerPath
{
    /// <summary>Components with "." and empty parts dropped and ".." applied, clamped at the root.</summary>
    public static List<string> Clean(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/'))
        {
            if (p.Length == 0 || p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return parts;
    }

    /// <summary>"/" + the cleaned components.</summary>
    public static string Normalize(string path) => "/" + string.Join('/', Clean(path));

    /// <summary>The relative form openat2 takes: "" for the root itself becomes ".".</summary>
    public static string Relative(string path)
    {
        var rel = path.TrimStart('/');
        return rel.Length == 0 ? "." : rel;
    }

    /// <summary>True for a single path component that cannot climb or descend ("a", not "a/b", "..", ".").</summary>
    public static bool IsPlainName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/') && !name.Contains('\0');
}

namespace Gantry.Discovery;

// Symlinks inside a driver root are interpreted relative to that root: a driver container's
// "/usr/lib/x/libcuda.so.1 -> /usr/lib/x/libcuda.so.550" must not resolve on the host's own /usr.
internal static class RootedPaths
{
    /// <summary>Follows the symlink chain of hostPath inside root; null when it dangles, loops or leaves the root.</summary>
    public static string? Resolve(string root, string hostPath, List<string>? chain = null)
    {
        var current = hostPath;
        for (var hops = 0; hops < 40; hops++)
        {
            // One lstat per hop, and readlink only for links: discovery resolves every library this way.
            if (!Host.FileStatus.TryLstat(current, out var st)) return null;
            if (!st.IsSymlink) return current;
            var target = new FileInfo(current).LinkTarget;
            if (target is null) return null;
            chain?.Add(current);
            var next = target.StartsWith('/') ? Host.HostRoots.Join(root, target) : Path.Combine(Path.GetDirectoryName(current)!, target);
            current = Path.GetFullPath(next);
            if (root != "/" && current != root && !current.StartsWith(root + "/", StringComparison.Ordinal)) return null;
        }
        return null;
    }
}

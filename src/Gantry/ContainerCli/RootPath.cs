namespace Gantry.ContainerCli;

// path_resolve of libnvidia-container: walks a path component by component inside a root, following every
// symlink (absolute targets restart at the root, so a driver root's links never reach the host's own files).
// Returns the resolved path relative to the root, or null when a component is missing or the walk is unsafe.
internal static class RootPath
{
    const int MaxSymlinks = 40;

    public static string? Resolve(string root, string path)
    {
        var done = new List<string>();
        var pending = new Stack<string>(Split(path).Reverse());
        var links = 0;
        while (pending.Count > 0)
        {
            var c = pending.Pop();
            if (c is "" or ".") continue;
            if (c == "..")
            {
                if (done.Count == 0) return null; // would leave the root; the original refuses too
                done.RemoveAt(done.Count - 1);
                continue;
            }
            var host = Host(root, done, c);
            // One lstat per component, readlink only for a link: configure resolves every driver file this way.
            if (!Gantry.Host.FileStatus.TryLstat(host, out var st)) return null;
            if (!st.IsSymlink)
            {
                done.Add(c);
                continue;
            }
            if (new FileInfo(host).LinkTarget is not { } target) return null;
            if (++links > MaxSymlinks) return null;
            if (target.StartsWith('/')) done.Clear();
            foreach (var t in Split(target).Reverse()) pending.Push(t);
        }
        return "/" + string.Join('/', done);
    }

    static IEnumerable<string> Split(string p) => p.Split('/', StringSplitOptions.RemoveEmptyEntries);

    static string Host(string root, List<string> done, string c)
    {
        var rel = string.Join('/', done.Append(c));
        return root == "/" ? "/" + rel : root.TrimEnd('/') + "/" + rel;
    }
}

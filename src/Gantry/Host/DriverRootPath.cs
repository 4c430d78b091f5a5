namespace Gantry.Host;

/// <summary>
/// Paths inside a driver root: a host directory Gantry trusts ("/", /run/nvidia/driver, a simulated host) whose
/// symlinks were written for that root, so "/usr/lib/x/libcuda.so.1 -> /usr/lib/x/libcuda.so.550" resolves under it
/// and never on the host's own /usr. Absolute link targets restart at the root; nothing resolves above it.
/// A container's root filesystem is hostile and is never resolved here: use <see cref="ContainerRoot"/> (fd-based,
/// openat2 RESOLVE_IN_ROOT), which no symlink an image owns or swaps can lead out.
/// </summary>
internal static class DriverRootPath
{
    const int MaxSymlinks = 40; // the kernel's own limit

    /// <summary>
    /// The path inside <paramref name="root"/> that <paramref name="path"/> names, as "/usr/lib/…" (how
    /// nvidia-container-cli reports files): every component is walked and every link followed, as
    /// libnvidia-container's path_resolve does. Null when a component is missing, the links loop, or ".." would
    /// leave the root.
    /// </summary>
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
                if (done.Count == 0) return null;
                done.RemoveAt(done.Count - 1);
                continue;
            }
            var host = Under(root, done, c);
            // One lstat per component, readlink only for a link: configure resolves every driver file this way.
            if (!FileStatus.TryLstat(host, out var st)) return null;
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

    /// <summary>
    /// The host path of the file at the end of <paramref name="hostPath"/>'s symlink chain (a library's SONAME links),
    /// each hop resolved inside <paramref name="root"/>; the directories are kept as written. Null when the chain
    /// dangles, loops or leaves the root. <paramref name="chain"/> gets every link passed.
    /// </summary>
    public static string? ResolveFile(string root, string hostPath, List<string>? chain = null)
    {
        var current = hostPath;
        for (var hops = 0; hops < MaxSymlinks; hops++)
        {
            // One lstat per hop, and readlink only for links: discovery resolves every library this way.
            if (!FileStatus.TryLstat(current, out var st)) return null;
            if (!st.IsSymlink) return current;
            var target = new FileInfo(current).LinkTarget;
            if (target is null) return null;
            chain?.Add(current);
            var next = target.StartsWith('/') ? HostRoots.Join(root, target) : Path.Combine(Path.GetDirectoryName(current)!, target);
            current = Path.GetFullPath(next);
            if (root != "/" && current != root && !current.StartsWith(root + "/", StringComparison.Ordinal)) return null;
        }
        return null;
    }

    static IEnumerable<string> Split(string p) => p.Split('/', StringSplitOptions.RemoveEmptyEntries);

    static string Under(string root, List<string> done, string c)
    {
        var rel = string.Join('/', done.Append(c));
        return root == "/" ? "/" + rel : root.TrimEnd('/') + "/" + rel;
    }
}

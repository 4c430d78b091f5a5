namespace Gantry.Host;

// ContainerRoot's resolver for kernels without openat2: one component at a time, every open O_NOFOLLOW relative to
// the directory fd already reached, ".." clamped at the root, symlinks re-read and restarted from the root
// (absolute) or the current directory (relative). It gives the same answers as RESOLVE_IN_ROOT for the cases
// the hooks meet; a component swapped for a symlink mid-walk is caught by O_NOFOLLOW and never followed.
internal sealed partial class ContainerRoot
{
    const int MaxSymlinks = 40; // the kernel's own limit

    static int WalkOpen(ISyscalls sys, int rootFd, string path, int flags, int mode)
    {
        var wantNoFollow = (flags & O.NoFollow) != 0;
        var remaining = new LinkedList<string>(WalkSplit(path));
        var stack = new List<int>(); // directory fds below the root; the root itself is never closed here
        var links = 0;
        try
        {
            if (remaining.Count == 0) return sys.OpenAt(rootFd, ".", flags & ~O.Creat & ~O.Excl);
            while (remaining.Count > 0)
            {
                var name = remaining.First!.Value;
                remaining.RemoveFirst();
                var current = stack.Count > 0 ? stack[^1] : rootFd;
                if (name == "..")
                {
                    if (stack.Count > 0) { sys.Close(stack[^1]); stack.RemoveAt(stack.Count - 1); }
                    if (remaining.Count == 0) return sys.OpenAt(stack.Count > 0 ? stack[^1] : rootFd, ".", flags & ~O.Creat & ~O.Excl);
                    continue;
                }
                var last = remaining.Count == 0;
                var follow = !last || !wantNoFollow;
                if (follow && sys.ReadLinkAt(current, name, out var target) >= 0)
                {
                    if (++links > MaxSymlinks) return -Errno.ELOOP;
                    if (last && (flags & (O.Creat | O.Excl)) == (O.Creat | O.Excl)) return -Errno.EEXIST;
                    if (target.StartsWith('/'))
                    {
                        foreach (var fd in stack) sys.Close(fd);
                        stack.Clear();
                    }
                    var parts = WalkSplit(target);
                    if (parts.Count == 0 && last) parts.Add("."); // "/" or "." as a target: open the directory itself
                    for (var i = parts.Count - 1; i >= 0; i--) remaining.AddFirst(parts[i]);
                    continue;
                }
                if (last) return OpenFinal(sys, current, name, flags, mode, follow);
                var next = sys.OpenAt(current, name, O.Path | O.Directory | O.NoFollow);
                if (next < 0) return next; // ELOOP: it became a symlink after readlinkat; refuse rather than chase a racing image
                stack.Add(next);
            }
            return sys.OpenAt(stack.Count > 0 ? stack[^1] : rootFd, ".", flags & ~O.Creat & ~O.Excl);
        }
        finally
        {
            foreach (var fd in stack) sys.Close(fd);
        }
    }

    static int OpenFinal(ISyscalls sys, int dirFd, string name, int flags, int mode, bool follow)
    {
        if (name == ".") return sys.OpenAt(dirFd, ".", flags & ~O.Creat & ~O.Excl);
        var fd = sys.OpenAt(dirFd, name, flags | O.NoFollow, mode);
        if (fd < 0 || !follow || (flags & O.Path) == 0) return fd;
        // O_PATH|O_NOFOLLOW opens a symlink itself; if one appeared after readlinkat, do not hand it out.
        if (sys.Statx(fd, "", At.EmptyPath | At.SymlinkNoFollow, out var st) >= 0 && st.IsSymlink)
        {
            sys.Close(fd);
            return -Errno.ELOOP;
        }
        return fd;
    }

    static List<string> WalkSplit(string path) => path.Split('/').Where(p => p.Length > 0 && p != ".").ToList();
}

using Gantry.Host;

namespace Gantry.Live;

// Mount targets inside the rootfs. Existing components are resolved confined (a symlink of the image is followed
// as if the rootfs were "/"); a missing one is made with mkdirat / O_CREAT|O_EXCL|O_NOFOLLOW relative to the fd of
// its resolved parent and journalled, so a rollback removes exactly what was made. A dangling symlink on the way
// to a directory has its target made, inside the rootfs; a dangling one as the final file is refused.
internal sealed class MountTargets(ContainerRoot root, UndoJournal journal, (uint Uid, uint Gid) owner)
{
    const int DirMode = 0b111_101_101, FileMode = 0b110_100_100;
    readonly ISyscalls _sys = root.Sys;

    /// <summary>An O_PATH fd on the directory at path and its symlink-free path, creating what is missing.</summary>
    public (OwnedFd Fd, string Path) Directory(string path) => Directory(path, 0);

    (OwnedFd Fd, string Path) Directory(string path, int danglingLinks)
    {
        var parts = ContainerPath.Clean(path);
        var current = root.Open("/", O.Path | O.Directory);
        try
        {
            for (var i = 0; i < parts.Count; i++)
            {
                var prefix = "/" + string.Join('/', parts.Take(i + 1));
                var r = root.TryOpenRaw(prefix, O.Path | O.Directory);
                var made = false;
                if (r == -Errno.ENOENT)
                {
                    var m = _sys.MkdirAt(current.Value, parts[i], DirMode);
                    if (m == -Errno.EEXIST && _sys.ReadLinkAt(current.Value, parts[i], out var link) >= 0)
                    {
                        // A dangling symlink: make its target instead, resolved inside the rootfs like any path here.
                        if (danglingLinks >= 40) Fail(Errno.Describe(Errno.ELOOP), prefix);
                        var parent = "/" + string.Join('/', parts.Take(i));
                        var redirected = (link.StartsWith('/') ? link : parent + "/" + link) + "/" + string.Join('/', parts.Skip(i + 1));
                        current.Dispose();
                        return Directory(redirected, danglingLinks + 1);
                    }
                    if (m < 0) Fail(Errno.Describe(-m), prefix);
                    journal.Created(Dup(current), parts[i], directory: true, prefix);
                    r = _sys.OpenAt(current.Value, parts[i], O.Path | O.Directory | O.NoFollow);
                    made = true;
                }
                if (r < 0) Fail(Errno.Describe(-r), prefix);
                current.Dispose();
                current = new OwnedFd(_sys, r);
                if (made) Own(current.Value, prefix);
            }
            return (current, root.ContainerPathOf(current));
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An O_PATH fd on a non-directory at path (an empty regular file is made when nothing is there) and its
    /// symlink-free path. An existing symlink is followed, confined; a directory there is an error.
    /// </summary>
    public (OwnedFd Fd, string Path) File(string path)
    {
        var parent = ContainerPath.Normalize(path);
        var name = parent[(parent.LastIndexOf('/') + 1)..];
        var (dir, _) = Directory(parent[..Math.Max(parent.LastIndexOf('/'), 1)]);
        using (dir)
        {
            var r = _sys.OpenAt(dir.Value, name, O.Path | O.NoFollow);
            if (r == -Errno.ENOENT)
            {
                var created = _sys.OpenAt(dir.Value, name, O.WrOnly | O.Creat | O.Excl | O.NoFollow, FileMode);
                if (created < 0) Fail(Errno.Describe(-created), path);
                journal.Created(Dup(dir), name, directory: false, path);
                using (var made = new OwnedFd(_sys, created)) Own(made.Value, path);
                r = _sys.OpenAt(dir.Value, name, O.Path | O.NoFollow);
            }
            if (r < 0) Fail(Errno.Describe(-r), path);
            var fd = new OwnedFd(_sys, r);
            var st = root.Stat(fd, path);
            if (st.IsSymlink)
            {
                fd.Dispose();
                if (!root.TryOpen(path, O.Path, out var followed, out var errno))
                    Fail(errno == Errno.ENOENT ? "is a dangling symbolic link; refusing to follow it" : Errno.Describe(errno), path);
                fd = followed!;
                st = root.Stat(fd, path);
            }
            if (st.IsDirectory)
            {
                fd.Dispose();
                Fail("is a directory", path);
            }
            return (fd, root.ContainerPathOf(fd));
        }
    }

    /// <summary>Gives what was just made to the container's owner (a no-op for root-owned containers).</summary>
    public void Own(int fd, string path, string name = "", int flags = At.EmptyPath)
    {
        if (owner is (0, 0)) return;
        var r = _sys.FChownAt(fd, name, owner.Uid, owner.Gid, flags);
        if (r < 0) Fail($"chown to {owner.Uid}:{owner.Gid}: {Errno.Describe(-r)}", path);
    }

    OwnedFd Dup(OwnedFd dir) => new(_sys, _sys.OpenAt(dir.Value, ".", O.Path | O.Directory));

    static void Fail(string why, string path) => throw new IOException($"{path}: {why}");
}

namespace Gantry.Host;

// Mounts inside a container root, always onto /proc/self/fd/N of an fd the resolver produced, and checked after
// the fact by re-resolving the path: the image never gets a chance to redirect a mount by swapping a path.
internal static class ConfinedMounts
{
    /// <summary>
    /// Creates a fresh directory named name in parentDir (O_NOFOLLOW, must not exist), mounts a tmpfs on it and
    /// returns an fd on the tmpfs root, verified to be a tmpfs.
    /// </summary>
    public static OwnedFd MountScratchTmpfs(ContainerRoot root, string parentPath, OwnedFd parentDir, string name, long size)
    {
        var path = parentPath.TrimEnd('/') + "/" + name;
        SyscallResult.Check(root.Sys.MkdirAt(parentDir.Value, name, 0b111_000_000), "mkdir", path);
        return MountTmpfsOver(root, parentDir, name, path, size);
    }

    /// <summary>Mounts a tmpfs over the existing directory name in parentDir (O_NOFOLLOW); returns an fd on the tmpfs root, verified.</summary>
    public static OwnedFd MountTmpfsOver(ContainerRoot root, OwnedFd parentDir, string name, string path, long size)
    {
        var sys = root.Sys;
        using (var dir = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(parentDir.Value, name, O.Path | O.Directory | O.NoFollow), "open", path)))
        {
            var data = $"size={Math.Max(size, 4096)},mode=0755";
            SyscallResult.Check(sys.Mount("tmpfs", dir.ProcPath, "tmpfs", Ms.NoSuid | Ms.NoDev, data), "mount tmpfs on", path);
        }
        // The fd above still names the directory underneath; the same name now leads to the tmpfs root.
        var tmpfs = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(parentDir.Value, name, O.Path | O.Directory | O.NoFollow), "open", path));
        if (sys.FsType(tmpfs.Value, out var type) < 0 || type != FsMagic.Tmpfs)
        {
            tmpfs.Dispose();
            throw new IOException($"{path} is not the tmpfs just mounted there");
        }
        return tmpfs;
    }

    /// <summary>Detaches the scratch tmpfs and removes its (empty) directory; best effort.</summary>
    public static void RemoveScratch(ISyscalls sys, OwnedFd tmpfs, OwnedFd parentDir, string name)
    {
        sys.Umount(tmpfs.ProcPath, Ms.MntDetach);
        tmpfs.Dispose();
        sys.UnlinkAt(parentDir.Value, name, At.RemoveDir);
    }

    /// <summary>
    /// Bind-mounts source onto target (both fds), then re-resolves targetPath, checks it now shows the source
    /// file, and remounts that bind read-only with extra flags.
    /// </summary>
    public static void BindReadOnly(ContainerRoot root, OwnedFd source, OwnedFd target, string targetPath, ulong flags) =>
        Bind(root, source, target, targetPath, Ms.RdOnly | flags).Dispose();

    /// <summary>
    /// The same with any remount flags (read-write when Ms.RdOnly is not among them). Returns an fd on the new mount,
    /// which is what unmounts exactly it later; a failed check or remount unmounts it again before throwing.
    /// </summary>
    public static OwnedFd Bind(ContainerRoot root, OwnedFd source, OwnedFd target, string targetPath, ulong remountFlags)
    {
        SyscallResult.Check(root.Sys.Mount(source.ProcPath, target.ProcPath, null, Ms.Bind, null), "bind mount onto", targetPath);
        return CheckAndRemount(root, source, targetPath, remountFlags);
    }

    /// <summary>BindReadOnly for a detached mount (ISyscalls.CloneMount, possibly of another mount namespace):
    /// attached onto target, then checked and remounted the same way.</summary>
    public static void AttachReadOnly(ContainerRoot root, OwnedFd detached, OwnedFd target, string targetPath, ulong flags)
    {
        SyscallResult.Check(root.Sys.MoveMount(detached.Value, target.Value), "attach mount onto", targetPath);
        CheckAndRemount(root, detached, targetPath, Ms.RdOnly | flags).Dispose();
    }

    static OwnedFd CheckAndRemount(ContainerRoot root, OwnedFd source, string targetPath, ulong remountFlags)
    {
        var sys = root.Sys;
        var mounted = root.Open(targetPath, O.Path | O.NoFollow);
        try
        {
            SyscallResult.Check(sys.Statx(source.Value, "", At.EmptyPath, out var want), "stat", "bind source");
            SyscallResult.Check(sys.Statx(mounted.Value, "", At.EmptyPath | At.SymlinkNoFollow, out var got), "stat", targetPath);
            // Not our mount at that path (the image swapped something): leave whatever is there alone.
            if (!got.SameFileAs(want)) throw new IOException($"{targetPath} does not show the file just bind-mounted there");
        }
        catch
        {
            mounted.Dispose();
            throw;
        }
        var r = sys.Mount(null, mounted.ProcPath, null, Ms.Remount | Ms.Bind | remountFlags, null);
        if (r >= 0) return mounted;
        sys.Umount(mounted.ProcPath, Ms.MntDetach);
        mounted.Dispose();
        throw new SyscallException("remount", targetPath, -r);
    }
}

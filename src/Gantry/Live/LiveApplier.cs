using System.Text;
using Gantry.Common;
using Gantry.Edits;
using Gantry.Host;

namespace Gantry.Live;

// Applies a LivePlan to a rootfs from inside the container's mount namespace. Sources on the host are opened by
// path (the container's namespace still shows the host's tree before pivot_root); every target is a confined fd
// from MountTargets; every mount goes onto /proc/self/fd/N and is checked by re-resolving its path
// (ConfinedMounts). Each change is journalled; Rollback undoes them all, so a failure never leaves half a GPU.
internal sealed class LiveApplier(ContainerRoot root, Log log, (uint Uid, uint Gid) owner) : IDisposable
{
    readonly ISyscalls _sys = root.Sys;
    readonly UndoJournal _journal = new(root.Sys, log);
    MountTargets Targets => new(root, _journal, owner);

    public void Apply(LivePlan plan)
    {
        var skipped = new List<string>();
        foreach (var m in plan.Mounts)
        {
            if (skipped.Exists(s => m.ContainerPath.StartsWith(s + "/", StringComparison.Ordinal))) continue;
            var (flags, data) = LivePaths.MountFlags(m.Options);
            if (m.Type == "tmpfs")
            {
                if (!Tmpfs(m.ContainerPath, flags, data, plan.Files)) skipped.Add(m.ContainerPath);
            }
            else BindHost(m, flags);
        }
        foreach (var b in plan.ContainerBinds) BindFromContainer(b);
        foreach (var s in plan.Symlinks) Symlink(s);
        if (plan.BindDevices)
            foreach (var d in plan.DeviceNodes) BindDevice(d);
    }

    public void Rollback() => _journal.Rollback();
    public void Commit() => _journal.Commit();

    // A tmpfs at path holding the plan's files for it. Where the container's /proc is a real procfs without the
    // driver's directory (no NVIDIA module on this host, e.g. a simulated one) there is nothing to hide: skipped.
    bool Tmpfs(string path, ulong flags, string? data, List<LiveFile> files)
    {
        if (path.StartsWith("/proc/", StringComparison.Ordinal) && root.StatOrNull(path) is null && InProcfs(path))
        {
            log.Warning($"the container's /proc has no {path["/proc".Length..]} (no NVIDIA kernel module here); leaving it as it is");
            return false;
        }
        var (dir, resolved) = Targets.Directory(path);
        OwnedFd mounted;
        using (dir)
        {
            log.Info($"mounting tmpfs at {root.HostPath}{resolved}");
            Check(_sys.Mount("tmpfs", dir.ProcPath, "tmpfs", flags, data), "mount tmpfs on", resolved);
            // Looked up again from the pinned parent, not by path: the entry must now be a tmpfs on another device.
            using var parent = new OwnedFd(_sys, Check(_sys.OpenAt(dir.Value, "..", O.Path | O.Directory), "open", resolved + "/.."));
            var name = resolved[(resolved.LastIndexOf('/') + 1)..];
            mounted = new OwnedFd(_sys, Check(_sys.OpenAt(parent.Value, name, O.Path | O.Directory | O.NoFollow), "open", resolved));
            var fresh = _sys.FsType(mounted.Value, out var type) >= 0 && type == FsMagic.Tmpfs &&
                        (root.Stat(mounted, resolved).DevMajor, root.Stat(mounted, resolved).DevMinor) !=
                        (root.Stat(parent, resolved).DevMajor, root.Stat(parent, resolved).DevMinor);
            if (!fresh)
            {
                mounted.Dispose();
                throw new IOException($"{resolved} is not the tmpfs just mounted there");
            }
        }
        _journal.Mounted(mounted, resolved);
        foreach (var f in files.Where(f => LivePaths.IsDirectChild(path, f.ContainerPath)))
        {
            var name = f.ContainerPath[(f.ContainerPath.LastIndexOf('/') + 1)..];
            using var fd = root.CreateExclusive(mounted, name, f.Mode, f.ContainerPath);
            root.WriteAll(fd, Encoding.UTF8.GetBytes(f.Content), f.ContainerPath);
            Targets.Own(fd.Value, f.ContainerPath);
        }
        return true;
    }

    bool InProcfs(string path)
    {
        for (var p = path; p.Length > 1; p = p[..Math.Max(p.LastIndexOf('/'), 1)])
        {
            if (!root.TryOpen(p, O.Path | O.Directory, out var fd, out _)) continue;
            using (fd) return _sys.FsType(fd!.Value, out var type) >= 0 && type == FsMagic.Proc;
        }
        return false;
    }

    void BindHost(Mount m, ulong flags)
    {
        // Discovery resolved every source already: a symlink here would be a host file changed meanwhile.
        using var source = new OwnedFd(_sys, Check(_sys.OpenAt(At.FdCwd, m.HostPath, O.Path | O.NoFollow), "open", m.HostPath));
        var st = root.Stat(source, m.HostPath);
        if (st.IsSymlink) throw new IOException($"unexpected source file mode {Convert.ToString(st.Mode, 8)} for {m.HostPath}");
        Bind(source, st.IsDirectory, m.ContainerPath, flags, m.HostPath);
    }

    void BindFromContainer(LiveContainerBind b)
    {
        using var source = root.Open(b.Source, O.Path | O.NoFollow);
        if (!root.Stat(source, b.Source).IsRegular) throw new IOException($"{b.Source} in the container is not a regular file");
        Bind(source, directory: false, b.ContainerPath, Ms.RdOnly | Ms.NoSuid | Ms.NoDev, root.HostPath + b.Source);
    }

    // Device nodes are bound from the host, never made with mknod in the container; the node must still be the
    // device discovery saw.
    void BindDevice(DeviceNode d)
    {
        var host = d.HostPath ?? d.Path;
        using var source = new OwnedFd(_sys, Check(_sys.OpenAt(At.FdCwd, host, O.Path), "open", host));
        var st = root.Stat(source, host);
        if (!st.IsCharDevice || st.RdevMajor != d.Major || st.RdevMinor != d.Minor)
            throw new IOException($"invalid device node: {host}");
        Bind(source, directory: false, d.Path, Ms.RdOnly | Ms.NoSuid | Ms.NoExec, host);
    }

    void Bind(OwnedFd source, bool directory, string containerPath, ulong flags, string what)
    {
        var (target, resolved) = directory ? Targets.Directory(containerPath) : Targets.File(containerPath);
        using (target)
        {
            log.Info($"mounting {what} at {root.HostPath}{resolved} with flags 0x{flags:x}");
            var mounted = ConfinedMounts.Bind(root, source, target, resolved, flags);
            _journal.Mounted(mounted, resolved);
            FaultPoint.Hit("configure-mount-made");
        }
    }

    void Symlink(LiveSymlink s)
    {
        var slash = s.Path.LastIndexOf('/');
        var (dir, _) = Targets.Directory(s.Path[..slash]);
        using (dir)
        {
            var name = s.Path[(slash + 1)..];
            var r = _sys.SymlinkAt(s.Target, dir.Value, name);
            if (r == -Errno.EEXIST) return; // never replaces what the image has
            Check(r, "symlink", s.Path);
            log.Info($"creating symlink {s.Path} -> {s.Target}");
            _journal.Created(new OwnedFd(_sys, _sys.OpenAt(dir.Value, ".", O.Path | O.Directory)), name, directory: false, s.Path);
            Targets.Own(dir.Value, s.Path, name, At.SymlinkNoFollow);
            FaultPoint.Hit("configure-symlink-made");
        }
    }

    static int Check(int r, string call, string path) => r >= 0 ? r : throw new SyscallException(call, path, -r);

    public void Dispose() => _journal.Dispose();
}

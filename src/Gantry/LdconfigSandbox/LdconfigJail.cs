using Gantry.Host;

namespace Gantry.LdconfigSandbox;

// The confinement the host ldconfig runs in (both ways of starting it use it: LdconfigThreadRunner in-process,
// with gantry-sandbox-exec applying the limits and the seccomp filter, and LdconfigChildHook in a re-executed
// child, which applies them itself). Namespaces, root and capabilities are per thread until execve, so
// every step runs on the one thread that then starts ldconfig:
//   1. new mount, UTS, IPC and network namespaces; every mount private so nothing propagates to the host
//   2. the root bind-mounted onto itself (pivot_root needs a mount point)
//   3. a scratch tmpfs over the root's /dev (which step 5 would mask anyway; no directory is made in the root, and
//      on an ext4 without a journal every new inode costs), or at /run/nvidia-ctk-hook/<scratch> where /dev is not
//      a directory, the host ldconfig bound read-only onto a file in it
//      (LdconfigThreadRunner: detached mounts of ldconfig and the helper taken beforehand, attached there)
//   4. pivot_root into the root (chroot where the host root cannot be pivoted away, e.g. initramfs)
//   5. read-only empty tmpfs over the root's /proc, /sys and /dev (unless the read-only scratch is there already):
//      no kernel knob or device is reachable
//   6. capabilities cut to an inheritable CAP_DAC_OVERRIDE, bounding set emptied, no_new_privs
internal static class LdconfigJail
{
    const int CapDacOverride = 1;
    public const int Namespaces = CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc | CloneFlags.NewNet;

    /// <summary>ldconfig's limits (the original's): seconds of CPU, open files, bytes per file. No address-space
    /// limit: a JIT-compiled .NET build (tests) dies on it before it reaches execve.</summary>
    public static readonly (int Resource, ulong Value)[] ResourceLimits = [(0, 10UL), (7, 64UL), (1, 1UL << 20)]; // CPU, NOFILE, FSIZE

    /// <summary>The bound ldconfig inside the root: an O_PATH fd, its path there, and the host file it must be;
    /// with a helper, the same for it (see LdconfigThreadRunner).</summary>
    internal sealed record Prepared(ContainerRoot Root, OwnedFd Exe, string ExePath, FileStatus HostFile) : IDisposable
    {
        public string? HelperPath { get; init; }
        public FileStatus HelperFile { get; init; }
        /// <summary>The scratch tmpfs covers /dev: step 5 must leave it in place.</summary>
        public bool ScratchOnDev { get; init; }
        public void Dispose() { Exe.Dispose(); Root.Dispose(); }
    }

    /// <summary>Steps 1–3 (namespaces must already be unshared on this thread), ldconfig opened by its host path.</summary>
    public static Prepared Prepare(ISyscalls sys, string rootPath, string ldconfig, string scratch)
    {
        using var host = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(At.FdCwd, ldconfig, O.Path), "open", ldconfig));
        return Prepare(sys, rootPath, host, ldconfig, null, scratch);
    }

    /// <summary>Steps 1–3 with detached mounts of the host files (LdconfigHostFiles; taken in any mount namespace),
    /// the helper attached beside ldconfig.</summary>
    public static Prepared Prepare(ISyscalls sys, string rootPath, LdconfigHostFiles files, string scratch) =>
        Prepare(sys, rootPath, files.Ldconfig, files.LdconfigPath, files.Helper, scratch);

    // A helper comes only with detached mounts; ldconfig alone is an fd of this namespace, bound.
    static Prepared Prepare(ISyscalls sys, string rootPath, OwnedFd ldconfig, string ldconfigPath, OwnedFd? helper, string scratch)
    {
        var detached = helper is not null;
        PrivateRoot(sys, rootPath);

        SyscallResult.Check(sys.Statx(ldconfig.Value, "", At.EmptyPath, out var hostStat), "stat", ldconfigPath);
        var root = ContainerRoot.Open(sys, rootPath);
        try
        {
            var onDev = root.StatOrNull("/dev", followFinal: false) is { IsDirectory: true };
            var scratchPath = onDev ? "/dev" : LdconfigScratch.Parent + "/" + scratch;
            using var tmpfs = onDev ? MountOnDev(root, (long)hostStat.Size) : MountScratch(root, scratch, (long)hostStat.Size);
            var exePath = PlaceInto(root, tmpfs, scratchPath, "ldconfig", ldconfig, detached);
            string? helperPath = null;
            FileStatus helperStat = default;
            if (helper is not null)
            {
                SyscallResult.Check(sys.Statx(helper.Value, "", At.EmptyPath, out helperStat), "stat", LdconfigThreadRunner.HelperName);
                helperPath = PlaceInto(root, tmpfs, scratchPath, "sandbox-exec", helper, detached);
            }
            SyscallResult.Check(sys.Mount(null, tmpfs.ProcPath, null, Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null), "remount read-only", scratchPath);
            var exe = root.Open(exePath, O.Path | O.NoFollow);
            if (!root.Stat(exe, exePath).SameFileAs(hostStat))
            {
                exe.Dispose();
                throw new IOException($"{exePath} is not the host ldconfig just bound there");
            }
            return new Prepared(root, exe, exePath, hostStat) { HelperPath = helperPath, HelperFile = helperStat, ScratchOnDev = onDev };
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    static OwnedFd MountOnDev(ContainerRoot root, long size)
    {
        using var top = root.OpenDirectory("/");
        return ConfinedMounts.MountTmpfsOver(root, top, "dev", "/dev", size);
    }

    static OwnedFd MountScratch(ContainerRoot root, string scratch, long size)
    {
        using var parent = root.MkdirAll(LdconfigScratch.Parent, 0b111_101_101);
        return ConfinedMounts.MountScratchTmpfs(root, LdconfigScratch.Parent, parent, scratch, size);
    }

    // A new empty file NAME on the scratch tmpfs with the host file mounted read-only onto it; returns its path.
    static string PlaceInto(ContainerRoot root, OwnedFd tmpfs, string scratchPath, string name, OwnedFd host, bool detached)
    {
        var path = scratchPath + "/" + name;
        root.CreateExclusive(tmpfs, name, 0b101_000_000, path).Dispose();
        using var target = new OwnedFd(root.Sys, SyscallResult.Check(root.Sys.OpenAt(tmpfs.Value, name, O.Path | O.NoFollow), "open", path));
        const ulong flags = Ms.NoSuid | Ms.NoDev | Ms.NoSymFollow;
        if (detached) ConfinedMounts.AttachReadOnly(root, host, target, path, flags);
        else ConfinedMounts.BindReadOnly(root, host, target, path, flags);
        return path;
    }

    /// <summary>Steps 1 and 2 past the unshare: nothing propagates to the host, and the root is a mount point.</summary>
    public static void PrivateRoot(ISyscalls sys, string rootPath)
    {
        SyscallResult.Check(sys.Mount(null, "/", null, Ms.Rec | Ms.Private, null), "make private", "/");
        SyscallResult.Check(sys.Mount(rootPath, rootPath, null, Ms.Bind | Ms.Rec, null), "bind mount", rootPath);
    }

    /// <summary>Steps 4–6: this thread's root becomes the container root, the kernel trees are masked and its
    /// capabilities are cut.</summary>
    public static void Enter(ISyscalls sys, Prepared jail, int lastCapability, bool noPivot = false)
    {
        EnterRoot(sys, jail.Root, noPivot);
        MaskKernelTrees(sys, maskDev: !jail.ScratchOnDev);
        SyscallResult.Check(sys.DropCapabilities(1UL << CapDacOverride, lastCapability), "drop capabilities", "ldconfig");
    }

    public static void EnterRoot(ISyscalls sys, ContainerRoot root, bool noPivot)
    {
        SyscallResult.Check(sys.FChdir(root.Fd.Value), "chdir", root.HostPath);
        var r = noPivot ? -Errno.EINVAL : sys.PivotRoot(".", ".");
        if (r == 0)
        {
            // The old root now sits on top of the new one; detach it so no host path stays reachable.
            SyscallResult.Check(sys.Umount(".", Ms.MntDetach), "detach old root", "/");
        }
        else if (r == -Errno.EINVAL)
        {
            // pivot_root is impossible when the host root is rootfs (initramfs); chroot confines paths as well.
            SyscallResult.Check(sys.Chroot("."), "chroot", root.HostPath);
        }
        else SyscallResult.Check(r, "pivot_root", root.HostPath);
        SyscallResult.Check(sys.Chdir("/"), "chdir", "/");
    }

    // Past pivot_root, so these names are the root's; only directories are covered (a symlink there is the image's
    // own business and stays inside the root).
    public static void MaskKernelTrees(ISyscalls sys, bool maskDev = true)
    {
        foreach (var dir in new[] { "/proc", "/sys", "/dev" })
        {
            if (dir == "/dev" && !maskDev) continue;
            if (sys.Statx(At.FdCwd, dir, At.SymlinkNoFollow, out var st) < 0 || !st.IsDirectory) continue;
            SyscallResult.Check(sys.Mount("tmpfs", dir, "tmpfs", Ms.RdOnly | Ms.NoSuid | Ms.NoDev | Ms.NoExec, "size=4k,mode=0555"), "mask", dir);
        }
    }

    public static string[] Arguments(string ldconfig) => [Path.GetFileName(ldconfig), "-f", "/etc/ld.so.conf", "-C", "/etc/ld.so.cache"];
}

using Gantry.Cli;
using Gantry.Host;

namespace Gantry.Hooks;

// The hidden verb the update-ldcache hook re-executes itself as. It must run on the process's main thread (it
// does: Main calls it synchronously), because namespaces, root and capabilities are per thread until execve.
//   1. new mount, UTS, IPC and network namespaces; every mount private so nothing propagates to the host
//   2. the root bind-mounted onto itself (pivot_root needs a mount point)
//   3. a tmpfs at /run/nvidia-ctk-hook/<scratch> inside the root, the host ldconfig bound read-only onto a file in it
//   4. pivot_root into the root (chroot where the host root cannot be pivoted away, e.g. initramfs)
//   5. read-only empty tmpfs over the root's /proc, /sys and /dev: no kernel knob or device is reachable
//   6. capabilities cut to an inheritable CAP_DAC_OVERRIDE, bounding set emptied, no_new_privs, small rlimits
//   7. execveat of the bound ldconfig by fd (no path lookup left for a racing image to redirect)
// With --container-binary (nvidia-container-cli configure without '@') the image's own ldconfig is run instead,
// by its path inside the pivoted root, with no capability at all; a missing one is skipped as the original does.
internal sealed class LdconfigChildHook : ICdiHook
{
    public const string VerbName = "__update-ldcache-child";
    const int CapDacOverride = 1;

    public string Name => VerbName;
    public string Summary => "internal: run the host ldconfig confined to a container root";
    public bool Hidden => true;

    public FlagSet DefineFlags() => new FlagSet()
        .String("container-root", "host path of the container root")
        .String("ldconfig-path", "host path of ldconfig")
        .String("scratch-name", "name of the scratch directory under /run/nvidia-ctk-hook")
        .List("folder", "directory to scan in addition to /etc/ld.so.conf")
        .Bool("container-binary", "ldconfig-path names the container's own ldconfig, inside the root");

    public void Run(FlagSet flags, HookContext context)
    {
        var rootPath = flags.Get("container-root");
        var ldconfig = flags.Get("ldconfig-path");
        var scratch = flags.Get("scratch-name");
        var inContainer = flags.GetBool("container-binary");
        if (string.IsNullOrEmpty(rootPath) || rootPath == "/" || !rootPath.StartsWith('/'))
            throw new GantryException($"{VerbName}: an absolute container root other than \"/\" is required");
        if (string.IsNullOrEmpty(ldconfig) || (!inContainer && (string.IsNullOrEmpty(scratch) || !ContainerPath.IsPlainName(scratch))))
            throw new GantryException($"{VerbName}: --ldconfig-path and a plain --scratch-name are required");
        string[] argv = [Path.GetFileName(ldconfig), "-f", "/etc/ld.so.conf", "-C", "/etc/ld.so.cache", .. flags.GetList("folder")];
        // Everything that may need a file from the host (console, assemblies in a non-AOT build, /proc) is touched
        // before the root changes; after pivot_root only syscalls are left.
        var lastCap = LinuxSyscalls.LastCapability();
        try
        {
            if (inContainer) ExecuteContainerBinary(context.Sys, rootPath, ldconfig, argv, lastCap, context.Log);
            else Execute(context.Sys, rootPath, ldconfig, scratch!, argv, lastCap, context.Log);
        }
        catch (Exception e)
        {
            // Past pivot_root a non-AOT build cannot even load the console: report with write(2) and _exit(2).
            var message = $"failed to run {ldconfig} in container root {rootPath}: {e.Message}\n";
            context.Sys.Write(2, System.Text.Encoding.UTF8.GetBytes(message));
            context.Sys.Exit(1);
        }
    }

    static void Execute(ISyscalls sys, string rootPath, string ldconfig, string scratch, string[] argv, int lastCap, Log log)
    {
        PrivateRoot(sys, rootPath);

        using var host = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(At.FdCwd, ldconfig, O.Path), "open", ldconfig));
        SyscallResult.Check(sys.Statx(host.Value, "", At.EmptyPath, out var hostStat), "stat", ldconfig);
        using var root = ContainerRoot.Open(sys, rootPath);
        using var parent = root.MkdirAll(UpdateLdcacheHook.ScratchParent, 0b111_101_101);
        var scratchPath = UpdateLdcacheHook.ScratchParent + "/" + scratch;
        using var tmpfs = ConfinedMounts.MountScratchTmpfs(root, UpdateLdcacheHook.ScratchParent, parent, scratch, (long)hostStat.Size);
        root.CreateExclusive(tmpfs, "ldconfig", 0b101_000_000, scratchPath + "/ldconfig").Dispose();
        var exePath = scratchPath + "/ldconfig";
        using (var target = new OwnedFd(sys, SyscallResult.Check(sys.OpenAt(tmpfs.Value, "ldconfig", O.Path | O.NoFollow), "open", exePath)))
            ConfinedMounts.BindReadOnly(root, host, target, exePath, Ms.NoSuid | Ms.NoDev | Ms.NoSymFollow);
        SyscallResult.Check(sys.Mount(null, tmpfs.ProcPath, null, Ms.Remount | Ms.Bind | Ms.RdOnly | Ms.NoSuid | Ms.NoDev, null), "remount read-only", scratchPath);
        using var exe = root.Open(exePath, O.Path | O.NoFollow);
        if (!root.Stat(exe, exePath).SameFileAs(hostStat)) throw new IOException($"{exePath} is not the host ldconfig just bound there");

        log.Debug($"executing {ldconfig} as {exePath} in {rootPath} (pid {Environment.ProcessId} in its PID namespace)");
        Console.Error.Flush();
        EnterRoot(sys, root);
        MaskKernelTrees(sys);
        SyscallResult.Check(sys.DropCapabilities(1UL << CapDacOverride, lastCap), "drop capabilities", "ldconfig");
        LimitResources(sys);
        var r = sys.ExecveAt(exe.Value, "", argv, [LdconfigChildLauncher.FixedPath], At.EmptyPath);
        throw new SyscallException("execveat", ldconfig, -r);
    }

    // The image's ldconfig runs as the image's code: pivoted, masked, with no capability, inheritable or other.
    static void ExecuteContainerBinary(ISyscalls sys, string rootPath, string ldconfig, string[] argv, int lastCap, Log log)
    {
        PrivateRoot(sys, rootPath);
        using var root = ContainerRoot.Open(sys, rootPath);
        log.Debug($"executing {ldconfig} at {rootPath} (the container's own)");
        Console.Error.Flush();
        EnterRoot(sys, root);
        MaskKernelTrees(sys);
        SyscallResult.Check(sys.DropCapabilities(0, lastCap), "drop capabilities", "ldconfig");
        LimitResources(sys);
        var r = sys.ExecveAt(At.FdCwd, ldconfig, argv, [LdconfigChildLauncher.FixedPath], 0);
        if (r == -Errno.ENOENT)
        {
            sys.Write(2, System.Text.Encoding.UTF8.GetBytes($"{ldconfig} not found in the container; skipping\n"));
            sys.Exit(0);
        }
        throw new SyscallException("execve", ldconfig, -r);
    }

    static void PrivateRoot(ISyscalls sys, string rootPath)
    {
        SyscallResult.Check(sys.Unshare(CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc | CloneFlags.NewNet), "unshare", "mount/uts/ipc/net namespaces");
        SyscallResult.Check(sys.Mount(null, "/", null, Ms.Rec | Ms.Private, null), "make private", "/");
        SyscallResult.Check(sys.Mount(rootPath, rootPath, null, Ms.Bind | Ms.Rec, null), "bind mount", rootPath);
    }

    // Past pivot_root, so these names are the root's; only directories are covered (a symlink there is the image's
    // own business and stays inside the root).
    static void MaskKernelTrees(ISyscalls sys)
    {
        foreach (var dir in new[] { "/proc", "/sys", "/dev" })
        {
            if (sys.Statx(At.FdCwd, dir, At.SymlinkNoFollow, out var st) < 0 || !st.IsDirectory) continue;
            SyscallResult.Check(sys.Mount("tmpfs", dir, "tmpfs", Ms.RdOnly | Ms.NoSuid | Ms.NoDev | Ms.NoExec, "size=4k,mode=0555"), "mask", dir);
        }
    }

    // The original's limits: ldconfig needs seconds of CPU, a few files and a cache far below these. Its address
    // space limit (2 GiB) is left out: a JIT-compiled .NET build (tests) dies on it before it reaches execve.
    static void LimitResources(ISyscalls sys)
    {
        foreach (var (resource, value) in new[] { (0, 10UL), (7, 64UL), (1, 1UL << 20) }) // CPU, NOFILE, FSIZE
            SyscallResult.Check(sys.SetResourceLimit(resource, value), "setrlimit", $"resource {resource}");
    }

    static void EnterRoot(ISyscalls sys, ContainerRoot root)
    {
        SyscallResult.Check(sys.FChdir(root.Fd.Value), "chdir", root.HostPath);
        var r = sys.PivotRoot(".", ".");
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
}

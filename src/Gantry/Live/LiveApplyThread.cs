using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;

namespace Gantry.Live;

/// <summary>The applier's outcome when it failed: its one-line message ("mount error: …").</summary>
internal sealed class LiveApplyException(string message) : Exception(message);

// Applies a LivePlan from a thread of this process that joins the container's mount namespace: namespaces are per
// thread, and setns(CLONE_NEWNS) only needs that thread's fs_struct unshared first (the process's other threads
// keep the host's root and namespaces). Every mount, the rollback and the ldconfig run happen on that thread; the
// step that must happen from the host (the device cgroup) runs on the calling thread between the mounts and
// ldconfig. Any failure, there or on the apply thread, undoes every mount.
// The seam (the real one unless a test passes its own) serves every call here and on the apply thread.
internal sealed class LiveApplyThread(Log log, ISyscalls? syscalls = null)
{
    public void Apply(ContainerTarget target, LivePlan plan, Action afterMounts)
    {
        var sys = syscalls ?? LinuxSyscalls.Instance;
        // The runtime's signal thread (Process uses it) is started here, in the host's namespaces, not later from the
        // apply thread, whose mount namespace it would inherit.
        PosixSignalRegistration.Create(PosixSignal.SIGCONT, static _ => { }).Dispose();
        using var hostLdconfig = OpenHostLdconfig(sys, plan.Ldconfig);
        ContainerRoot root;
        (uint, uint) owner;
        OwnedFd ns;
        try
        {
            root = ContainerProcess.OpenRootfs(sys, target);
            try
            {
                owner = ContainerProcess.Owner(sys, target, root);
                ns = ContainerProcess.OpenMountNamespace(sys, target, root);
            }
            catch
            {
                root.Dispose();
                throw;
            }
        }
        catch (IOException e) { throw new LiveApplyException($"container error: {e.Message}"); }

        using (root)
        using (ns)
        {
            var handoff = new Handoff();
            string? error = null;
            var thread = new Thread(() =>
            {
                // Every failure the apply thread expects is a line already; anything else still ends as one.
                try { error = Run(sys, target, ns, root, owner, plan, hostLdconfig, handoff); }
                catch (Exception e) { error = $"container error: {e.Message}"; }
            }) { Name = "configure-apply" };
            thread.Start();
            Exception? stepError = null;
            if (handoff.WaitForMounts())
            {
                try { afterMounts(); }
                catch (Exception e) { stepError = e; }
                handoff.Decide(proceed: stepError is null);
            }
            thread.Join();
            if (stepError is not null) ExceptionDispatchInfo.Throw(stepError);
            if (error is not null) throw new LiveApplyException(error);
        }
    }

    // The apply thread; returns the error line, or null (done, or rolled back because the host step failed).
    string? Run(ISyscalls sys, ContainerTarget target, OwnedFd ns, ContainerRoot root, (uint, uint) owner, LivePlan plan,
        LdconfigHostFiles? hostLdconfig, Handoff handoff)
    {
        try
        {
            try
            {
                SyscallResult.Check(sys.Unshare(CloneFlags.Fs), "unshare", "CLONE_FS");
                SyscallResult.Check(sys.SetNs(ns.Value, CloneFlags.NewNs), "setns", $"mount namespace of process {target.Pid}");
                // A user-namespaced container: what this thread makes belongs to the container's root, and the
                // filesystems mounted in its namespace (runc's /dev) accept it only from an owner they map.
                if (ContainerProcess.MappedRoot(target) is { } creator)
                    SyscallResult.Check(sys.CreateFilesAs(creator.Uid, creator.Gid), "setfsuid", $"{creator.Uid}:{creator.Gid}, the root of process {target.Pid}'s user namespace");
            }
            catch (IOException e) { return $"container error: {e.Message}"; }

            using var applier = new LiveApplier(root, log, owner);
            try { applier.Apply(plan); }
            catch (Exception e) // whatever went wrong, nothing stays half mounted
            {
                applier.Rollback();
                return $"mount error: {e.Message}";
            }
            FaultPoint.Hit("configure-mounts-done");
            if (!handoff.MountsDone())
            {
                applier.Rollback();
                return null;
            }
            FaultPoint.Hit("configure-before-ldconfig");
            try { RunLdconfig(root, plan.Ldconfig, hostLdconfig, ContainerProcess.MappedRoot(target)); }
            catch (Exception e)
            {
                applier.Rollback();
                return $"ldcache error: {e.Message}";
            }
            FaultPoint.Hit("configure-after-ldconfig");
            applier.Commit();
            return null;
        }
        finally { handoff.Failed(); } // wakes the caller if it still waits for the mounts
    }

    // The thread path needs the helper beside this executable, pivot_root (--no-pivot takes the child) and a kernel
    // that clones mounts; the reason it is not taken goes to the debug log. Taken here, where the host's paths are
    // this thread's.
    LdconfigHostFiles? OpenHostLdconfig(ISyscalls sys, LiveLdconfig? ld)
    {
        if (ld is not { FromHost: true }) return null;
        if (ld.NoPivot) { log.Debug("--no-pivot: ldconfig is chrooted by the re-executed child"); return null; }
        if (LdconfigThreadRunner.FindHelper() is not { } helper)
        {
            log.Debug($"{LdconfigThreadRunner.HelperName} is not beside {Environment.ProcessPath}");
            return null;
        }
        try
        {
            var files = LdconfigHostFiles.TryOpen(sys, ld.Path, helper, out var whyNot);
            if (files is null) log.Debug(whyNot!);
            return files;
        }
        catch (Exception e) when (e is IOException or GantryException) { throw new LiveApplyException($"ldcache error: {e.Message}"); }
    }

    // In a user-namespaced container ldconfig runs as the container's root (its files then belong to it); otherwise as
    // root, whatever user the container's process runs as (that user may not write the image's /etc).
    void RunLdconfig(ContainerRoot root, LiveLdconfig? ld, LdconfigHostFiles? hostLdconfig, (uint Uid, uint Gid)? containerRoot)
    {
        if (ld is null) return;
        // The rootfs as this namespace's root names it: where the jail is built.
        SyscallResult.Check(root.Sys.ReadLinkAt(At.FdCwd, root.Fd.ProcPath, out var rootPath), "readlink", root.HostPath);
        var context = new LdconfigContext(log, root.Sys, "/proc/self/exe") { RunAs = containerRoot };
        var scratch = "ldconfig-" + RandomName.Uuid();
        log.Info($"executing {ld.Path}{(ld.FromHost ? " from host" : "")} at {rootPath}");
        try
        {
            if (hostLdconfig is not null && new LdconfigThreadRunner(context).TryRun(rootPath, hostLdconfig, scratch, ld.Folders)) return;
            if (hostLdconfig is not null) log.Debug("this kernel does not unshare namespaces per thread");
            log.Debug($"running {ld.Path} from a re-executed child");
            new LdconfigChildLauncher(context).Run(rootPath, ld.Path, scratch, ld.Folders, containerBinary: !ld.FromHost, ld.NoPivot);
        }
        finally
        {
            if (ld.FromHost) LdconfigScratch.Remove(root, scratch);
        }
    }

    // The exchange between the two threads: the apply thread reports its mounts done (or its failure), the caller
    // answers whether to go on (the device cgroup is set) or undo them.
    sealed class Handoff
    {
        readonly ManualResetEventSlim _mounts = new(), _decided = new();
        bool _mounted, _proceed;

        /// <summary>Caller: true once every mount is in place; false when the apply thread failed first.</summary>
        public bool WaitForMounts()
        {
            _mounts.Wait();
            return _mounted;
        }

        public void Decide(bool proceed)
        {
            _proceed = proceed;
            _decided.Set();
        }

        /// <summary>Apply thread: reports the mounts and waits for the answer.</summary>
        public bool MountsDone()
        {
            _mounted = true;
            _mounts.Set();
            _decided.Wait();
            return _proceed;
        }

        public void Failed() => _mounts.Set();
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using Gantry.Cli;
using Gantry.Host;

namespace Gantry.Hooks;

// Runs the host ldconfig in LdconfigJail without starting this executable a second time: namespaces, root and
// capabilities are per thread, so one short-lived thread of our own unshares (PID namespace included, for the
// children it makes), builds the jail, pivots into it, drops its capabilities and starts ldconfig from there.
// The process's other threads keep the host's root, namespaces and capabilities. Saves a .NET start per
// container. ldconfig is started by its path inside the jail (a read-only tmpfs of ours), checked to be the
// bound host file right before; no code of the image runs while a container is being created.
// Where a thread cannot unshare (EINVAL), the re-executed child (LdconfigChildLauncher) does the same work.
internal sealed class LdconfigThreadRunner(HookContext context) : ILdconfigRunner
{
    public void Run(string rootHostPath, string ldconfigHostPath, string scratchName)
    {
        var lastCap = LinuxSyscalls.LastCapability();
        // Threads cannot be created by a thread that unshared its PID namespace: get the runtime's signal
        // thread (used by Process) running first.
        PosixSignalRegistration.Create(PosixSignal.SIGCONT, static _ => { }).Dispose();
        // A JIT build (tests, `dotnet run`) loads assemblies from disk on first use, which fails past pivot_root:
        // load what Process.Start uses while the host's files are still there. Free under NativeAOT.
        GC.KeepAlive(typeof(System.IO.Pipes.AnonymousPipeClientStream));
        GC.KeepAlive(typeof(System.ComponentModel.Win32Exception));
        Process? process = null;
        Exception? error = null;
        var unshared = true;
        var newPidNamespace = false;
        var thread = new Thread(() =>
        {
            try
            {
                var r = context.Sys.Unshare(LdconfigJail.Namespaces | CloneFlags.NewPid);
                if (r == -Errno.EINVAL) { unshared = false; return; }
                SyscallResult.Check(r, "unshare", "mount/uts/ipc/net/pid namespaces");
                newPidNamespace = new FileInfo("/proc/thread-self/ns/pid_for_children").LinkTarget != new FileInfo("/proc/self/ns/pid").LinkTarget;
                using var jail = LdconfigJail.Prepare(context.Sys, rootHostPath, ldconfigHostPath, scratchName);
                LdconfigJail.Enter(context.Sys, jail.Root, lastCap);
                SyscallResult.Check(context.Sys.Statx(At.FdCwd, jail.ExePath, At.SymlinkNoFollow, out var atPath), "stat", jail.ExePath);
                if (!atPath.SameFileAs(jail.HostFile)) throw new IOException($"{jail.ExePath} is not the host ldconfig bound there");
                process = Process.Start(StartInfo(jail.ExePath, ldconfigHostPath));
            }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "ldconfig-jail" };
        thread.Start();
        thread.Join();
        if (!unshared)
        {
            context.Log.Debug("this kernel does not unshare namespaces per thread; running ldconfig from a re-executed child");
            new LdconfigChildLauncher(context).Run(rootHostPath, ldconfigHostPath, scratchName);
            return;
        }
        if (error is not null || process is null)
            throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath}: {error?.Message ?? "not started"}", error!);
        context.Log.Debug($"started {ldconfigHostPath} in {rootHostPath} as host pid {process.Id}" +
                          (newPidNamespace ? " (pid 1 in its PID namespace)" : ""));
        LdconfigChildLauncher.Wait(process, context, rootHostPath, ldconfigHostPath);
    }

    // The whole environment is fixed: nothing the hook inherited (LD_PRELOAD, …) reaches ldconfig.
    static ProcessStartInfo StartInfo(string exePath, string ldconfigHostPath)
    {
        var args = LdconfigJail.Arguments(ldconfigHostPath);
        var psi = new ProcessStartInfo(exePath)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true, WorkingDirectory = "/",
        };
        foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = LdconfigChildLauncher.FixedPath["PATH=".Length..];
        return psi;
    }
}

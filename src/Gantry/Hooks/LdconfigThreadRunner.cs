using System.Diagnostics;
using System.Runtime.InteropServices;
using Gantry.Cli;
using Gantry.Host;

namespace Gantry.Hooks;

// Runs the host ldconfig in LdconfigJail without starting this executable a second time: namespaces, root and
// capabilities are per thread, so one short-lived thread of our own unshares (PID namespace included, for the
// children it makes), builds the jail, pivots into it, drops its capabilities and starts ldconfig from there.
// The process's other threads keep the host's root, namespaces and capabilities. Saves a .NET start per
// container. What must apply to ldconfig alone (resource limits, the seccomp allow-list) cannot be done by
// .NET between fork and exec: the static gantry-sandbox-exec (native/sandbox-exec), bound into the jail beside
// ldconfig and checked to be that host file, does it and execs ldconfig through an inherited descriptor. No
// code of the image runs while a container is being created. Without the helper next to this executable, or
// where a thread cannot unshare (EINVAL), the re-executed child (LdconfigChildLauncher) does the same work.
internal sealed class LdconfigThreadRunner(HookContext context) : ILdconfigRunner
{
    public const string HelperName = "gantry-sandbox-exec";

    /// <summary>The helper beside this executable, if it is there and static (nothing of a root loads into it).</summary>
    public static string? FindHelper()
    {
        var dir = Path.GetDirectoryName(Environment.ProcessPath);
        var helper = dir is null ? null : Path.Combine(dir, HelperName);
        return helper is not null && File.Exists(helper) && LdconfigBinary.IsStaticElf(helper, out _) ? helper : null;
    }

    public void Run(string rootHostPath, string ldconfigHostPath, string scratchName)
    {
        if (FindHelper() is not { } helper)
        {
            context.Log.Debug($"{HelperName} is not beside {Environment.ProcessPath}; running ldconfig from a re-executed child");
            new LdconfigChildLauncher(context).Run(rootHostPath, ldconfigHostPath, scratchName);
            return;
        }
        LdconfigHostFiles? files;
        string? whyNot;
        try { files = LdconfigHostFiles.TryOpen(context.Sys, ldconfigHostPath, helper, out whyNot); }
        catch (IOException e) { throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath}: {e.Message}", e); }
        using var _ = files;
        if (files is not null && TryRun(rootHostPath, files, scratchName, [])) return;
        context.Log.Debug($"{whyNot ?? "this kernel does not unshare namespaces per thread"}; running ldconfig from a re-executed child");
        new LdconfigChildLauncher(context).Run(rootHostPath, ldconfigHostPath, scratchName);
    }

    /// <summary>
    /// Runs the host ldconfig of files against the root, scanning folders besides ld.so.conf. False, with nothing
    /// done, where this thread cannot unshare its namespaces (the caller falls back to the re-executed child); any
    /// other failure throws. The jail is built from the calling thread's mount namespace (configure's apply thread
    /// calls it from the container's).
    /// </summary>
    public bool TryRun(string rootHostPath, LdconfigHostFiles files, string scratchName, IReadOnlyList<string> folders)
    {
        var ldconfigHostPath = files.LdconfigPath;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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
                using var jail = LdconfigJail.Prepare(context.Sys, rootHostPath, files, scratchName);
                LdconfigJail.Enter(context.Sys, jail.Root, lastCap);
                SyscallResult.Check(context.Sys.Statx(At.FdCwd, jail.HelperPath!, At.SymlinkNoFollow, out var atPath), "stat", jail.HelperPath!);
                if (!atPath.SameFileAs(jail.HelperFile)) throw new IOException($"{jail.HelperPath} is not the {HelperName} bound there");
                var inherited = Interop.DupInheritable(jail.Exe.Value);
                if (inherited < 0) throw new SyscallException("dup", jail.ExePath, -inherited);
                try { process = Process.Start(StartInfo(jail.HelperPath!, inherited, ldconfigHostPath, folders)); }
                finally { context.Sys.Close(inherited); }
            }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "ldconfig-jail" };
        thread.Start();
        thread.Join();
        if (!unshared) return false;
        if (error is not null || process is null)
            throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath}: {error?.Message ?? "not started"}", error!);
        context.Log.Debug($"started {ldconfigHostPath} in {rootHostPath} through {HelperName} as host pid {process.Id}" +
                          (newPidNamespace ? " (pid 1 in its PID namespace)" : "") + $" after {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        var running = System.Diagnostics.Stopwatch.GetTimestamp();
        LdconfigChildLauncher.Wait(process, context, rootHostPath, ldconfigHostPath);
        context.Log.Debug($"ldconfig ran for {System.Diagnostics.Stopwatch.GetElapsedTime(running).TotalMilliseconds:F1} ms");
        return true;
    }

    // gantry-sandbox-exec FD CPU NOFILE FSIZE FILTER -- ldconfig ARGS. The whole environment is fixed: nothing the
    // hook inherited (LD_PRELOAD, …) reaches the helper or ldconfig.
    static ProcessStartInfo StartInfo(string helperPath, int ldconfigFd, string ldconfigHostPath, IReadOnlyList<string> folders)
    {
        var psi = new ProcessStartInfo(helperPath) { UseShellExecute = false, WorkingDirectory = "/" };
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        psi.ArgumentList.Add(ldconfigFd.ToString(inv));
        foreach (var resource in new[] { 0, 7, 1 }) // the order the helper takes: CPU, NOFILE, FSIZE
            psi.ArgumentList.Add(LdconfigJail.ResourceLimits.First(l => l.Resource == resource).Value.ToString(inv));
        psi.ArgumentList.Add(LdconfigSyscallFilter.Build(RuntimeInformation.ProcessArchitecture) is { } filter ? LdconfigSyscallFilter.Hex(filter) : "-");
        psi.ArgumentList.Add("--");
        foreach (var a in LdconfigJail.Arguments(ldconfigHostPath)) psi.ArgumentList.Add(a);
        foreach (var f in folders) psi.ArgumentList.Add(f);
        psi.Environment.Clear();
        psi.Environment["PATH"] = LdconfigChildLauncher.FixedPath["PATH=".Length..];
        return psi;
    }
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

// Runs the host ldconfig in LdconfigJail without starting this executable a second time: namespaces, root and
// capabilities are per thread, so one short-lived thread of our own unshares (PID namespace included, for the
// children it makes), builds the jail, pivots into it, drops its capabilities and starts ldconfig from there.
// The process's other threads keep the host's root, namespaces and capabilities. Saves a .NET start per
// container. What must apply to ldconfig alone (resource limits, the seccomp allow-list) cannot be done by
// .NET between fork and exec: the static gantry-sandbox-exec (native/sandbox-exec), bound into the jail beside
// ldconfig and checked to be that host file, does it and execs ldconfig through an inherited descriptor. No
// code of the image runs while a container is being created. Without the helper next to this executable, or
// where a thread cannot unshare (EINVAL), the re-executed child (LdconfigChildLauncher) does the same work.
internal sealed class LdconfigThreadRunner(LdconfigContext context) : ILdconfigRunner
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
        if (TryStart(rootHostPath, files, scratchName, folders) is not { } process) return false;
        Wait(process, rootHostPath, files.LdconfigPath);
        return true;
    }

    /// <summary>A started ldconfig: its pid and, when its output is kept aside, the memfd holding it.</summary>
    sealed record Running(int Pid, OwnedFd? Output);

    void Wait(Running process, string rootHostPath, string ldconfigHostPath)
    {
        var running = System.Diagnostics.Stopwatch.GetTimestamp();
        var code = Interop.WaitForExit(process.Pid);
        var output = "";
        if (process.Output is { } memfd)
        {
            using (memfd)
            {
                try { output = File.ReadAllText(memfd.ProcPath); } // opened anew: from its start
                catch (IOException e) { output = $"(its output could not be read: {e.Message})"; }
            }
        }
        if (code != 0)
            throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath} (exit code {code}" +
                                      (process.Output is null ? "; its messages are above)" : $"): {output.Trim()}"));
        if (output.Length > 0) context.Log.Debug($"ldconfig: {output.Trim()}");
        context.Log.Debug($"ldconfig ran for {System.Diagnostics.Stopwatch.GetElapsedTime(running).TotalMilliseconds:F1} ms");
    }

    /// <summary>The started ldconfig, or null where this thread cannot unshare. Its output goes to a memfd when
    /// the hook is served by the runtime shim, whose stdio is the container's.</summary>
    Running? TryStart(string rootHostPath, LdconfigHostFiles files, string scratchName, IReadOnlyList<string> folders)
    {
        var ldconfigHostPath = files.LdconfigPath;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var lastCap = LinuxSyscalls.LastCapability();
        OwnedFd? output = null;
        if (context.KeepChildOutput)
        {
            var fd = Interop.MemfdCreate("ldconfig-output", 1); // MFD_CLOEXEC: dup2 onto 1 and 2 clears it there
            if (fd < 0) throw new SyscallException("memfd_create", "ldconfig's output", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            output = new OwnedFd(context.Sys, fd);
        }
        var pid = 0;
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
                LdconfigJail.Enter(context.Sys, jail, lastCap);
                if (context.RunAs is { } user)
                    SyscallResult.Check(ThreadCredentials.Become(user.Uid, user.Gid), "setresuid", $"{user.Uid}:{user.Gid}, the container's root");
                SyscallResult.Check(context.Sys.Statx(At.FdCwd, jail.HelperPath!, At.SymlinkNoFollow, out var atPath), "stat", jail.HelperPath!);
                if (!atPath.SameFileAs(jail.HelperFile)) throw new IOException($"{jail.HelperPath} is not the {HelperName} bound there");
                var inherited = Interop.DupInheritable(jail.Exe.Value);
                if (inherited < 0) throw new SyscallException("dup", jail.ExePath, -inherited);
                try
                {
                    pid = Interop.Spawn(jail.HelperPath!, Arguments(inherited, ldconfigHostPath, folders), [LdconfigChildLauncher.FixedPath], output?.Value ?? -1);
                    if (pid < 0) throw new SyscallException("posix_spawn", jail.HelperPath!, -pid);
                }
                finally { context.Sys.Close(inherited); }
            }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "ldconfig-jail" };
        thread.Start();
        thread.Join();
        if (!unshared || error is not null) output?.Dispose();
        if (!unshared) return null;
        if (error is not null)
            throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath}: {error.Message}", error);
        context.Log.Debug($"started {ldconfigHostPath} in {rootHostPath} through {HelperName} as host pid {pid}" +
                          (newPidNamespace ? " (pid 1 in its PID namespace)" : "") + $" after {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        return new Running(pid, output);
    }

    // gantry-sandbox-exec FD CPU NOFILE FSIZE FILTER -- ldconfig ARGS. The whole environment is fixed (PATH only):
    // nothing the hook inherited (LD_PRELOAD, …) reaches the helper or ldconfig.
    static List<string> Arguments(int ldconfigFd, string ldconfigHostPath, IReadOnlyList<string> folders)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var args = new List<string> { HelperName, ldconfigFd.ToString(inv) };
        foreach (var resource in new[] { 0, 7, 1 }) // the order the helper takes: CPU, NOFILE, FSIZE
            args.Add(LdconfigJail.ResourceLimits.First(l => l.Resource == resource).Value.ToString(inv));
        args.Add(LdconfigSyscallFilter.Build(RuntimeInformation.ProcessArchitecture) is { } filter ? LdconfigSyscallFilter.Hex(filter) : "-");
        args.Add("--");
        args.AddRange(LdconfigJail.Arguments(ldconfigHostPath));
        args.AddRange(folders);
        return args;
    }
}

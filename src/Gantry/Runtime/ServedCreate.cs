using Gantry.Common;
using Gantry.Host;

namespace Gantry.Runtime;

// `create` when the shim serves the container's hook (ServedHook): instead of becoming the low-level runtime, the
// shim starts it as a child, through the launcher's gantry-runtime-exec step that ties the runtime's life to the
// shim's, answers the hook client until the runtime exits, waits for the hook's file work (which goes on in a copy
// of the container's mounts after the client is answered; see ServedHook.Run), and exits as the runtime did. A
// failure of that work deletes the container runc just created, as runc does itself when a hook fails, and fails
// the create.
internal static class ServedCreate
{
    public const string LauncherName = "gantry-runtime-launcher";
    const int SigKill = 9;

    /// <summary>What a served create needs: the listening socket, the hook, the mount points to make while runc starts.</summary>
    public sealed record Parts(HookServer Server, ServedHook Hook, MountPointSeeder? Seeder = null);

    /// <summary>Runs the runtime with args and serves the hook; the exit code the create must end with.</summary>
    public static int Run(string runtime, IReadOnlyList<string> args, Parts parts, IRuntimeSyscalls os, RuntimeLog log)
    {
        var code = 1;
        try { code = Serve(runtime, args, parts, os, log); }
        finally { if (code != 0) parts.Seeder?.Undo(log); }
        return code;
    }

    static int Serve(string runtime, IReadOnlyList<string> args, Parts parts, IRuntimeSyscalls os, RuntimeLog log)
    {
        var guard = -1;
        try { return Serve(runtime, args, parts, os, log, ref guard); }
        finally
        {
            // The work is done (or the container deleted): the guard goes without acting.
            if (guard > 0 && os.Kill(guard, SigKill) == 0) os.WaitForExit(guard);
        }
    }

    static int Serve(string runtime, IReadOnlyList<string> args, Parts parts, IRuntimeSyscalls os, RuntimeLog log, ref int guard)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var deferred = new List<Func<string?>>();
        var delete = args.TakeWhile(a => a != "create").Concat(["delete", "--force", args[^1]]).ToList();
        int pid;
        using (parts.Server)
        {
            pid = Start(runtime, args, os);
            FaultPoint.Hit("shim-runc-started");
            if (parts.Seeder is { } seeder)
            {
                var made = seeder.Seed(log);
                log.Debug($"Made {made} of {seeder.Destinations.Count} mount points ({seeder.Made.Count - made} directories) as links of one file while runc started");
            }
            var pidfd = os.PidfdOpen(pid);
            if (pidfd < 0)
            {
                // Without a pidfd the runtime's exit cannot be waited for beside the socket: the client, finding no
                // socket, runs the hook itself.
                log.Debug($"pidfd_open: {Errno.Describe(-pidfd)}; the hook runs as its own process");
            }
            else
            {
                // The hook's answer goes out before its file work is done (ServedHook.Run), so runc may finish the
                // create first: the guard must be there before. Started now, while runc starts, not on its way.
                guard = Guard(runtime, delete, os, log);
                // The hook's thread, started while runc starts rather than when its client connects.
                using var standby = new StandbyThread("served-hook");
                try { parts.Server.ServeUntil(pidfd, (state, ns) => Answer(parts.Hook, state, ns, standby, deferred, log), log); }
                finally { os.Close(pidfd); }
            }
        }
        var code = os.WaitForExit(pid);
        string? failure = null;
        foreach (var rest in deferred) failure ??= rest();
        if (failure is null || code != 0) return code;
        log.Error(failure);
        Console.Error.WriteLine($"nvidia-container-runtime: error: {failure}");
        var deleted = os.WaitForExit(Start(runtime, delete, os));
        if (deleted != 0) log.Warning($"{runtime} delete --force {args[^1]} exited with {deleted.ToString(inv)}");
        return 1;
    }

    // The launcher's guard step: deletes the container should this shim die before it is dismissed. A create that
    // cannot start it goes on unguarded (the reason in the log), as before there was one.
    static int Guard(string runtime, IReadOnlyList<string> deleteArgs, IRuntimeSyscalls os, RuntimeLog log)
    {
        var launcher = Path.Combine(Path.GetDirectoryName(os.ExecutablePath) ?? "/", LauncherName);
        var pid = os.Spawn(launcher, ["gantry-runtime-guard", os.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), runtime, runtime, .. deleteArgs]);
        if (pid < 0) log.Warning($"cannot start the guard {launcher}: {Errno.Describe(-pid)}; a shim killed before the hook's work is done would leave the container created");
        return pid;
    }

    static int Start(string runtime, IReadOnlyList<string> args, IRuntimeSyscalls os)
    {
        var launcher = Path.Combine(Path.GetDirectoryName(os.ExecutablePath) ?? "/", LauncherName);
        var pid = os.Spawn(launcher, ["gantry-runtime-exec", os.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), runtime, runtime, .. args]);
        return pid >= 0 ? pid : throw new GantryException($"cannot start the low-level runtime {runtime} through {launcher}: {Errno.Describe(-pid)}");
    }

    // A hook in another user namespace (a user-namespaced container) runs as its own process: files it makes must
    // belong to the container's root, not to the host's.
    static HookAnswer? Answer(ServedHook hook, byte[] state, OwnedFd ns, StandbyThread thread, List<Func<string?>> deferred, RuntimeLog log)
    {
        if (!NamespaceFd.IsMountNamespace(ns)) { log.Warning("hook server: the descriptor sent is not a mount namespace"); return null; }
        if (!NamespaceFd.IsOwnedByOurUserNamespace(ns))
        {
            log.Debug("hook server: the hook is in another user namespace; it runs as its own process");
            return null;
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (answer, rest) = hook.Run(state, ns, log, thread);
        deferred.Add(rest);
        log.Debug($"served the createContainer hook in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms (exit code {answer.ExitCode})");
        return answer;
    }
}

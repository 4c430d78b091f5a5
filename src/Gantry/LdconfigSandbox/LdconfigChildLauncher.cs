using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.LdconfigSandbox;

/// <summary>Runs the host ldconfig against a container root; a seam so update-ldcache's file work can be tested alone.</summary>
internal interface ILdconfigRunner
{
    void Run(string rootHostPath, string ldconfigHostPath, string scratchName);
}

// Starts this executable again (/proc/self/exe) as the hidden child verb, with a fixed environment: nothing the
// hook inherited (LD_PRELOAD, LD_LIBRARY_PATH, DOTNET_STARTUP_HOOKS, …) reaches the child or ldconfig. The child
// is forked from a thread that first unshared its PID namespace, so it and ldconfig run as PID 1 of a fresh one.
internal sealed class LdconfigChildLauncher(LdconfigContext context) : ILdconfigRunner
{
    /// <summary>The hidden verb the child is started with (Hooks/LdconfigChildHook answers it).</summary>
    public const string ChildVerb = "__update-ldcache-child";

    public const string FixedPath = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The child's whole environment. Only a non-AOT build (tests, `dotnet run`) needs DOTNET_ROOT to start at all.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ChildEnvironment(bool nativeAot, Func<string, string?> getenv)
    {
        var env = new List<KeyValuePair<string, string>> { new("PATH", FixedPath["PATH=".Length..]) };
        if (!nativeAot && getenv("DOTNET_ROOT") is { Length: > 0 } root) env.Add(new("DOTNET_ROOT", root));
        return env;
    }

    public static List<string> ChildArguments(string root, string ldconfig, string scratch, bool debug,
        IReadOnlyList<string>? folders = null, bool containerBinary = false, bool noPivot = false)
    {
        var args = new List<string> { "hook" };
        if (debug) args.Add("--debug");
        args.AddRange([ChildVerb, "--container-root", root, "--ldconfig-path", ldconfig, "--scratch-name", scratch]);
        foreach (var f in folders ?? []) args.AddRange(["--folder", f]);
        if (containerBinary) args.Add("--container-binary");
        if (noPivot) args.Add("--no-pivot");
        return args;
    }

    public void Run(string rootHostPath, string ldconfigHostPath, string scratchName) => Run(rootHostPath, ldconfigHostPath, scratchName, [], false, false);

    /// <summary>
    /// nvidia-container-cli configure: the directories ldconfig scans besides ld.so.conf and, with containerBinary,
    /// the image's own ldconfig (a path inside the root) instead of a host one.
    /// </summary>
    public void Run(string rootHostPath, string ldconfigPath, string scratchName, IReadOnlyList<string> folders, bool containerBinary, bool noPivot)
    {
        var ldconfigHostPath = ldconfigPath;
        var psi = new ProcessStartInfo(context.SelfExe) { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var a in ChildArguments(rootHostPath, ldconfigHostPath, scratchName, context.Log.Level >= LogLevel.Debug, folders, containerBinary, noPivot))
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in ChildEnvironment(!RuntimeFeature.IsDynamicCodeSupported, Environment.GetEnvironmentVariable)) psi.Environment[k] = v;

        Wait(StartInNewPidNamespace(psi), context, rootHostPath, ldconfigHostPath);
    }

    /// <summary>Waits for the ldconfig process (or the child that becomes it).</summary>
    /// <remarks>ldconfig's stdio is the hook's own (its messages land where the hook's do, which the engine
    /// shows when the hook fails): a redirected pipe would start .NET's socket engine threads for a process that
    /// lives a few milliseconds.</remarks>
    static void Wait(Process process, LdconfigContext context, string rootHostPath, string ldconfigHostPath)
    {
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new GantryException($"failed to run ldconfig {ldconfigHostPath} in container root {rootHostPath} (exit code {process.ExitCode}; its messages are above)");
    }

    Process StartInNewPidNamespace(ProcessStartInfo psi)
    {
        Process? process = null;
        Exception? error = null;
        // The runtime starts its signal-handling thread on first use of Process (or Console). A thread created
        // after unshare(CLONE_NEWPID) fails with EINVAL, so get that done here, before unsharing.
        PosixSignalRegistration.Create(PosixSignal.SIGCONT, static _ => { }).Dispose();
        // pid_ns_for_children is per thread: unshare and fork on one short-lived thread of our own.
        var thread = new Thread(() =>
        {
            try
            {
                var r = context.Sys.Unshare(CloneFlags.NewPid);
                if (r < 0) context.Log.Debug($"no new PID namespace for ldconfig: {Errno.Describe(-r)}");
                process = Process.Start(psi);
            }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "ldconfig-launch" };
        thread.Start();
        thread.Join();
        if (error is not null) throw new GantryException($"failed to start the ldconfig helper {psi.FileName}: {error.Message}", error);
        return process ?? throw new GantryException($"failed to start the ldconfig helper {psi.FileName}");
    }

}

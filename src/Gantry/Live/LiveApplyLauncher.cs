using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gantry.Cli;
using Gantry.Hooks;

namespace Gantry.Live;

/// <summary>The applier's outcome when it failed: the child's one-line message ("mount error: …").</summary>
internal sealed class LiveApplyException(string message) : Exception(message);

// Starts this executable again as `__configure-apply` (see LiveApplyChild) with a fixed environment, hands it the
// plan, and runs the step that must happen from the host (the device cgroup) between the child's mounts and its
// ldconfig run. If that step throws, the child is told to undo its mounts; if this process dies, the child sees
// EOF and undoes them too.
internal sealed class LiveApplyLauncher(Log log, string selfExe = "/proc/self/exe")
{
    public void Apply(ContainerTarget target, LivePlan plan, Action afterMounts)
    {
        var psi = new ProcessStartInfo(selfExe)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        psi.ArgumentList.Add(LiveApplyChild.VerbName);
        psi.Environment.Clear();
        foreach (var (k, v) in LdconfigChildLauncher.ChildEnvironment(!RuntimeFeature.IsDynamicCodeSupported, Environment.GetEnvironmentVariable))
            psi.Environment[k] = v;

        using var child = Process.Start(psi) ?? throw new LiveApplyException($"container error: could not start {selfExe}");
        // A blocking read on a thread of its own: ReadToEndAsync would start the runtime's socket engine and thread
        // pool for one pipe (~1–3 ms here).
        var stderr = "";
        var stderrReader = new Thread(() => stderr = child.StandardError.ReadToEnd()) { IsBackground = true, Name = "apply-stderr" };
        stderrReader.Start();
        var request = new LiveApplyRequest
        {
            Pid = target.Pid, Standalone = target.Standalone, Rootfs = target.Rootfs, StartTime = target.StartTime,
            Debug = log.Level >= LogLevel.Debug, Plan = plan,
        };
        Exception? stepError = null;
        try
        {
            var stdin = child.StandardInput.BaseStream;
            stdin.Write(LiveApplyRequestJson.Write(request));
            stdin.WriteByte((byte)'\n');
            stdin.Flush();
            if (child.StandardOutput.ReadLine() == "applied")
            {
                try { afterMounts(); }
                catch (Exception e) { stepError = e; }
                child.StandardInput.WriteLine(stepError is null ? "continue" : "rollback");
            }
            child.StandardInput.Close();
        }
        catch (IOException) { } // the child is gone; its exit status and stderr say why
        child.WaitForExit();
        stderrReader.Join();
        var error = Relay(stderr);
        if (stepError is not null) ExceptionDispatch(stepError);
        if (child.ExitCode != 0)
            throw new LiveApplyException(error ?? $"container error: the applier exited with status {child.ExitCode}");
    }

    // The child's log lines go to this log; its "!error: " line is the message to report.
    string? Relay(string stderr)
    {
        string? error = null;
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith(LiveApplyChild.ErrorPrefix, StringComparison.Ordinal)) error = line[LiveApplyChild.ErrorPrefix.Length..];
            else log.Debug($"[apply] {line}");
        }
        return error;
    }

    static void ExceptionDispatch(Exception e) => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
}

namespace Gantry.Host;

// Test-only fault injection: with GANTRY_FAULT_POINT=NAME in its environment, the process SIGKILLs itself when it
// reaches FaultPoint.Hit(NAME), first creating GANTRY_FAULT_DIR/NAME (when that variable names a directory) so a
// test knows the point was reached. Compiled in everywhere; unset, a hit is one static field compare (the variable
// is read once per process). Points, by process (tests/Gantry.Tests/Faults/KillSweepTests walks them all):
//
//   nvidia-container-runtime (create)  shim-spec-read, shim-spec-modified, write:config.json (temp file written, not
//                                      yet renamed), shim-spec-written (before runc), shim-runc-started (served:
//                                      runc running, the hook not yet served)
//   served hook (a thread of the shim) served-hook-joined (in the container's mount namespace), served-hook-answered
//                                      (client answered, symlinks and ldconfig still to do)
//   createContainer hook, served or    hook-symlink-made (after the first symlink), hook-before-ldconfig,
//   a process (nvidia-cdi-hook)        hook-after-ldconfig
//   nvidia-container-runtime-hook      prestart-spec-read, prestart-before-cli
//   nvidia-container-cli configure     configure-planned, configure-mount-made (after the first mount),
//                                      configure-symlink-made, configure-mounts-done (before the device cgroup),
//                                      configure-before-ldconfig, configure-after-ldconfig (before the commit)
internal static class FaultPoint
{
    public const string Variable = "GANTRY_FAULT_POINT";
    public const string MarkerDirectoryVariable = "GANTRY_FAULT_DIR";

    static readonly string? Armed = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;

    /// <summary>True when some point is armed: callers that build a point's name test this first.</summary>
    public static bool IsArmed => Armed is not null;

    /// <summary>The variables that arm the same point in another process ("NAME=value"); none when unarmed.</summary>
    public static IEnumerable<string> EnvironmentEntries()
    {
        if (Armed is null) yield break;
        yield return $"{Variable}={Armed}";
        if (Environment.GetEnvironmentVariable(MarkerDirectoryVariable) is { Length: > 0 } dir) yield return $"{MarkerDirectoryVariable}={dir}";
    }

    /// <summary>Kills this process with SIGKILL when name is the armed point; otherwise returns at once.</summary>
    public static void Hit(string name)
    {
        if (Armed is null || !string.Equals(Armed, name, StringComparison.Ordinal)) return;
        if (Environment.GetEnvironmentVariable(MarkerDirectoryVariable) is { Length: > 0 } dir)
        {
            try { File.WriteAllText(Path.Combine(dir, name.Replace('/', '_')), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        Interop.Kill(Environment.ProcessId, 9);
        Thread.Sleep(Timeout.Infinite);
    }
}

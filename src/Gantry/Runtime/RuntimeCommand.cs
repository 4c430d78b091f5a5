using Gantry.Config;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Requests;

namespace Gantry.Runtime;

// nvidia-container-runtime: a decorator around runc. Every command goes to the low-level runtime unchanged;
// only `create` first rewrites <bundle>/config.json (atomically, or not at all) to add the requested GPUs.
internal static class RuntimeCommand
{
    public const string OciSpecVersion = "1.3.0";

    /// <summary>Runs the shim; returns only when something failed (on success the process becomes the runtime).</summary>
    public static int Run(string name, string[] args, IRuntimeSyscalls? os = null)
    {
        os ??= LinuxRuntimeSyscalls.Instance;
        var parsed = RuntimeArgs.Parse(args);
        if (parsed.Version)
            Console.Out.Write($"NVIDIA Container Runtime version {Cli.VersionInfo.Version}\ncommit: gantry\nspec: {OciSpecVersion}\n");

        var configPath = ToolkitConfigFile.DefaultPath();
        var configLine = FastPathCache.ConfigLine(configPath);
        var config = ToolkitConfigFile.Load(configPath);
        var rt = config.NvidiaContainerRuntime;
        var level = RuntimeLog.ParseLevel(rt.LogLevel, out var levelValid);
        // Like the original, --version creates no log files.
        using var log = new RuntimeLog(parsed.Debug ? Cli.LogLevel.Debug : level,
            parsed.Version ? null : rt.Debug, parsed.Version ? null : parsed.LogFile, parsed.LogFormat == "json");
        try
        {
            if (!levelValid) log.Warning($"invalid log-level \"{rt.LogLevel}\" in config.toml; using info");
            var pathEnv = Environment.GetEnvironmentVariable("PATH");
            var runtime = BinaryLookup.ResolveRuntime(rt.Runtimes, pathEnv);
            log.Debug($"Using low-level runtime {runtime}");
            // Commands other than create log nothing below debug: the runtime launcher may replay this resolution.
            if (levelValid && log.Level < Cli.LogLevel.Debug && !parsed.Version)
                FastPathCache.Record(configPath, configLine, pathEnv ?? "", BinaryLookup.RuntimeSearchDirectories(rt.Runtimes, pathEnv), runtime, log);
            if (parsed.IsCreate) ModifyBundle(name, parsed, config, log, os);
            if (parsed.Version) { Console.Out.Write("\n"); Console.Out.Flush(); }
            log.Dispose();
            var r = os.Exec(runtime, [runtime, .. args]);
            throw new Cli.GantryException($"cannot exec the low-level runtime {runtime}: {new SyscallException("execv", runtime, -r).Message}");
        }
        catch (Exception e) when (e is Cli.GantryException or Cli.UsageException or OciSpecException or RequirementException)
        {
            log.Error(e.Message);
            throw e as Cli.GantryException ?? new Cli.GantryException(e.Message, e);
        }
    }

    static void ModifyBundle(string name, RuntimeArgs parsed, ToolkitConfig config, RuntimeLog log, IRuntimeSyscalls os)
    {
        var forced = name.EndsWith(".cdi", StringComparison.Ordinal) ? "cdi" : name.EndsWith(".legacy", StringComparison.Ordinal) ? "legacy" : null;
        var configured = ModeResolver.Configured(config.NvidiaContainerRuntime.Mode, forced);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var specPath = parsed.SpecPath;
        var spec = OciSpec.Load(specPath, config.Features.AllowUnknownOciSpecFields ?? false);
        var applier = new EditsApplier(os);
        var ctk = BinaryLookup.ResolveHelper(config.NvidiaCtk.Path, "nvidia-ctk");
        var hook = BinaryLookup.ResolveHelper(config.NvidiaContainerRuntimeHook.Path, "nvidia-container-runtime-hook");
        var modifier = new SpecModifier(config, log, new CdiInjector(config, log, applier, ctk), hook);
        var mode = modifier.Modify(spec, configured);
        if (mode != RuntimeMode.Legacy && Environment.ProcessPath is { } self && HookMerger.Merge(spec, self) is > 0 and var saved)
            log.Debug($"Merged createContainer hooks: {saved} fewer process starts");
        // Everything above works on the tree in memory; only a complete spec reaches the disk.
        try { AtomicFile.Write(specPath, spec.Serialize(), SpecMode(specPath), durable: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Cli.GantryException($"cannot write the modified OCI spec {specPath}: {e.Message}", e);
        }
        log.Debug($"Wrote the modified OCI spec {specPath} ({System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms since the shim started reading it)");
    }

    static UnixFileMode SpecMode(string path)
    {
        try { return File.GetUnixFileMode(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return (UnixFileMode)0b110_100_100; }
    }
}

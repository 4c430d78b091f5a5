using System.Text.Json.Nodes;
using Gantry.Common;
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
            Console.Out.Write(VersionInfo.Text("NVIDIA Container Runtime", $"spec: {OciSpecVersion}") + "\n");

        var configPath = ToolkitConfigFile.DefaultPath();
        var configLine = FastPathCache.ConfigLine(configPath);
        var config = ToolkitConfigFile.Load(configPath);
        var rt = config.NvidiaContainerRuntime;
        var level = RuntimeLog.ParseLevel(rt.LogLevel, out var levelValid);
        // Like the original, --version creates no log files.
        using var log = new RuntimeLog(parsed.Debug ? LogLevel.Debug : level,
            parsed.Version ? null : rt.Debug, parsed.Version ? null : parsed.LogFile, parsed.LogFormat == "json");
        try
        {
            if (!levelValid)
            {
                // A new container is refused (the admin sees why at once); the others are only logged, so that
                // containers started before the edit can still be stopped and deleted.
                var problem = $"invalid nvidia-container-runtime.log-level \"{rt.LogLevel}\" in {configPath}: use one of " +
                              string.Join(", ", ConfigValues.AllowedValues(ConfigValues.LogLevel)!);
                if (parsed.IsCreate) throw new GantryException(problem);
                log.Warning(problem + "; using info");
            }
            var pathEnv = Environment.GetEnvironmentVariable("PATH");
            var runtime = BinaryLookup.ResolveRuntime(rt.Runtimes, pathEnv);
            log.Debug($"Using low-level runtime {runtime}");
            // Commands other than create log nothing below debug: the runtime launcher may replay this resolution.
            if (levelValid && log.Level < LogLevel.Debug && !parsed.Version)
                FastPathCache.Record(configPath, configLine, pathEnv ?? "", BinaryLookup.RuntimeSearchDirectories(rt.Runtimes, pathEnv), runtime, log);
            var served = parsed.IsCreate ? ModifyBundle(name, parsed, config, log, os) : null;
            if (parsed.Version) { Console.Out.Write("\n"); Console.Out.Flush(); }
            if (parsed.IsCreate) FaultPoint.Hit("shim-spec-written");
            if (served is { } s)
            {
                var code = ServedCreate.Run(runtime, args, s, os, log);
                log.Dispose();
                // The engine waits for this exit, and nothing is buffered (the log is closed, stderr unbuffered):
                // .NET's own shutdown would only add milliseconds.
                os.Exit(code);
                return code;
            }
            log.Dispose();
            var r = os.Exec(runtime, [runtime, .. args]);
            throw new GantryException($"cannot exec the low-level runtime {runtime}: {new SyscallException("execv", runtime, -r).Message}");
        }
        catch (Exception e) when (e is GantryException or UsageException or OciSpecException or RequirementException)
        {
            var message = e is RequirementException r ? r.Described : e.Message;
            log.Error(message);
            throw e as GantryException ?? new GantryException(message, e);
        }
    }

    /// <returns>The hook the shim serves itself, with its listening socket, when there is one (ServedHook).</returns>
    static ServedCreate.Parts? ModifyBundle(string name, RuntimeArgs parsed, ToolkitConfig config, RuntimeLog log, IRuntimeSyscalls os)
    {
        var forced = name.EndsWith(".cdi", StringComparison.Ordinal) ? "cdi" : name.EndsWith(".legacy", StringComparison.Ordinal) ? "legacy" : null;
        var configured = ModeResolver.Configured(config.NvidiaContainerRuntime.Mode, forced);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var specPath = parsed.SpecPath;
        var spec = OciSpec.Load(specPath, config.Features.AllowUnknownOciSpecFields ?? false);
        FaultPoint.Hit("shim-spec-read");
        var applier = new EditsApplier(os);
        var ctk = BinaryLookup.ResolveHelper(config.NvidiaCtk.Path, "nvidia-ctk");
        var hook = BinaryLookup.ResolveHelper(config.NvidiaContainerRuntimeHook.Path, "nvidia-container-runtime-hook");
        var modifier = new SpecModifier(config, log, new CdiInjector(config, log, applier, ctk), hook);
        var before = new HashSet<JsonNode>(spec.Root["mounts"] is JsonArray m ? m.OfType<JsonObject>() : [], ReferenceEqualityComparer.Instance);
        var mode = modifier.Modify(spec, configured);
        if (mode != RuntimeMode.Legacy && os.ExecutablePath is { } self && HookMerger.Merge(spec, self, os.RealPath) is > 0 and var saved)
            log.Debug($"Merged createContainer hooks: {saved} fewer process starts");
        if (mode != RuntimeMode.Legacy && os.ExecutablePath is { } me &&
            ContainerRootHandover.Apply(spec, Path.GetDirectoryName(Path.GetFullPath(specPath))!, me, os.RealPath) is > 0 and var handed)
            log.Debug($"User namespace: the container root is handed to {handed} hook(s) in their environment");
        var served = mode != RuntimeMode.Legacy ? Serve(spec, os, log) : null;
        if (FaultPoint.IsArmed) PassFaultPointToHooks(spec);
        FaultPoint.Hit("shim-spec-modified");
        // Everything above works on the tree in memory; only a complete spec reaches the disk.
        try { AtomicFile.Write(specPath, spec.Serialize(), SpecMode(specPath), durable: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            served?.Server.Dispose();
            throw new GantryException($"cannot write the modified OCI spec {specPath}: {e.Message}", e);
        }
        // Only a shim that stays runc's parent can take the mount points back when the create fails.
        if (served is not null && MountPointSeeder.Plan(spec, Path.GetDirectoryName(Path.GetFullPath(specPath))!, before) is { } seeder)
            served = served with { Seeder = seeder };
        log.Debug($"Wrote the modified OCI spec {specPath} ({System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms since the shim started reading it)");
        return served;
    }

    // The hook this shim will run itself, its spec entry pointed at the client; null (the reason in the debug log)
    // where the helpers are not beside this executable, the hook cannot be served or no socket can be made.
    static ServedCreate.Parts? Serve(OciSpec spec, IRuntimeSyscalls os, RuntimeLog log)
    {
        if (os.ExecutablePath is not { } self || ServedHook.Find(spec, self, os.RealPath) is not { } found) return null;
        if (Environment.GetEnvironmentVariable(ServedHook.DisableVariable) is { Length: > 0 }) { log.Debug($"{ServedHook.DisableVariable} is set: the hook runs as its own process"); return null; }
        // runc starts the hook in the container's user namespace as a uid that cannot reach the socket, and the server
        // would send it back to run itself anyway (HookServer, ServedCreate.Answer): the shim becomes runc at once.
        if (ContainerRootHandover.IsUserNamespaced(spec)) { log.Debug("user namespace: the hook runs as its own process, the container root handed over"); return null; }
        var dir = Path.GetDirectoryName(self)!;
        var client = Path.Combine(dir, ServedHook.ClientName);
        if (!File.Exists(client) || !File.Exists(Path.Combine(dir, ServedCreate.LauncherName)))
        {
            log.Debug($"{ServedHook.ClientName} or {ServedCreate.LauncherName} is not beside {self}: the hook runs as its own process");
            return null;
        }
        if (HookServer.TryListen(out var whyNot) is not { } server) { log.Debug($"the hook runs as its own process: {whyNot}"); return null; }
        ServedHook.Redirect(found.Entry, client, server.SocketPath);
        log.Debug($"Serving the createContainer hook on {server.SocketPath}");
        return new ServedCreate.Parts(server, found.Hook);
    }

    // Test-only (FaultPoint): runc gives a hook only the environment its entry names, so an armed point reaches the
    // hook processes through their entries (a served hook runs in this process and has it already).
    static void PassFaultPointToHooks(OciSpec spec)
    {
        if (spec.Root["hooks"] is not JsonObject hooks) return;
        foreach (var entry in hooks.Select(kv => kv.Value).OfType<JsonArray>().SelectMany(a => a.OfType<JsonObject>()))
        {
            if (entry["env"] is not JsonArray env) entry["env"] = env = new JsonArray();
            foreach (var v in FaultPoint.EnvironmentEntries()) env.Add((JsonNode)JsonValue.Create(v));
        }
    }

    static UnixFileMode SpecMode(string path)
    {
        try { return File.GetUnixFileMode(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return (UnixFileMode)0b110_100_100; }
    }
}

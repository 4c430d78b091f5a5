using Gantry.Common;
using Gantry.Config;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Engines.Configure;
using Gantry.Host;
using Gantry.Requests;

namespace Gantry.NvidiaCtk;

// nvidia-ctk runtime configure|unconfigure: point docker, containerd or CRI-O at nvidia-container-runtime, or undo it.
internal static class RuntimeConfigureCommand
{
    const string RuntimeSpecificDefault = "RUNTIME_SPECIFIC_DEFAULT";

    public static int Run(string[] args, Log log, TextWriter stdout)
    {
        if (args.Length == 0 || args[0] is not ("configure" or "unconfigure"))
            throw new UsageException("runtime needs a command: configure, unconfigure");
        var flags = Flags();
        flags.Parse(args[1..]);
        if (flags.GetBool("help")) { stdout.Write(Help(args[0])); return 0; }
        if (flags.Positionals.Count > 0) throw new UsageException($"unexpected argument '{flags.Positionals[0]}'");
        var undo = args[0] == "unconfigure" || flags.GetBool("unset");
        // Accepted so that a configure command line undoes itself; said, so that nobody thinks they did something.
        if (undo)
            foreach (var name in ConfigureOnly.Where(n => n != "unset" && flags.IsSet(n)))
                log.Warning($"Ignoring --{name}: it only matters to 'runtime configure'");
        var engine = flags.Get("runtime") switch
        {
            "docker" => EngineKind.Docker,
            "containerd" => EngineKind.Containerd,
            "crio" => EngineKind.Crio,
            var x => throw new UsageException($"unrecognized runtime '{x}'"),
        };
        var mode = flags.Get("config-mode") ?? "";
        if (mode is "oci-hook" or "hook") return OciHook.Run(flags.Get("oci-hook-path") ?? "", flags.Get("nvidia-runtime-hook-path")!, flags.GetBool("dry-run"), undo, log, stdout);
        if (mode is not ("" or "config-file" or "config")) log.Warning($"Ignoring unsupported config mode '{mode}'; using config-file");

        var o = Resolve(flags, engine, undo, log);
        if (flags.GetBool("swarm-resources") || flags.IsSet("swarm-resource-kind")) o = WithSwarm(o, flags, log);
        var source = ReadSource(flags, engine, log);
        var changes = RuntimeConfigurer.Plan(o, source, log);
        if (!undo && RuntimeConfigurer.SwarmMismatches(o, changes) is { Count: > 0 } mismatched)
        {
            var what = $"{o.ConfigPath} advertises GPUs to Swarm as {string.Join(", ", mismatched)}, but swarm-resource in " +
                       $"{o.ToolkitConfigPath ?? ToolkitConfigFile.DefaultPath()} does not list {string.Join(",", mismatched.Select(SwarmResource.Variable))}: " +
                       "the runtime would refuse those tasks";
            if (o.SwarmKind is not null) throw new GantryException($"{what}; remove the other kind from node-generic-resources or configure it with --swarm-resource-kind");
            log.Warning($"{what}; run 'nvidia-ctk runtime configure --runtime=docker --swarm-resource-kind={mismatched[0]}'");
        }
        if (flags.GetBool("dry-run"))
        {
            // Each document is labelled with its path: on stderr, and as a comment heading a TOML document
            // (daemon.json stays plain JSON on stdout, so that it can still be redirected to a file).
            foreach (var c in changes)
            {
                if (c.Text is null) { log.Info($"would remove {c.Path}"); continue; }
                log.Info($"would write {c.Path}:");
                stdout.Write((engine == EngineKind.Docker && c.Path == o.ConfigPath ? "" : $"# {c.Path}\n") + c.Text + "\n");
            }
            return 0;
        }
        var any = false;
        foreach (var c in changes) any |= EngineFile.Apply(c, log);
        if (!any) log.Info($"{o.ConfigPath} already {(undo ? "has no" : "has the")} '{o.RuntimeName}' runtime configured; nothing changed");
        else log.Info($"It is recommended that {flags.Get("runtime")} daemon be restarted.");
        return 0;
    }

    // Configure's options that unconfigure has no use for: accepted (so that the configure command line, with
    // "un" put in front, undoes it) but not listed in its help.
    static readonly string[] ConfigureOnly = ["nvidia-runtime-path", "nvidia-runtime-hook-path", "nvidia-set-as-default", "cdi.enabled", "unset", "driver-root"];

    static string Help(string verb)
    {
        if (verb == "configure") return $"nvidia-ctk runtime configure [options]\n\n" + Flags().Usage();
        var used = Flags().Usage().Split('\n').Where(line => !ConfigureOnly.Any(name => line.StartsWith($"   --{name}", StringComparison.Ordinal)));
        return "nvidia-ctk runtime unconfigure [options]\n\n" + string.Join('\n', used) +
               "(configure's other options are accepted and ignored, so that the configure command line undoes it)\n";
    }

    internal static FlagSet Flags() => new FlagSet()
        .Bool("dry-run", "print the updated config to STDOUT instead of writing it")
        .String("runtime", "the engine to configure: docker, containerd or crio", "docker")
        .String("config", "path to the engine's config file (default: /etc/docker/daemon.json, /etc/containerd/config.toml or " +
                          "/etc/crio/crio.conf); for containerd and crio the runtime still goes to --drop-in-config, whose default is under /etc " +
                          "(containerd: --config gets an imports line for it; crio: --config is only read)")
        .String("drop-in-config", "path to the drop-in file to write: containerd /etc/containerd/conf.d/99-nvidia.toml, crio " +
                                  "/etc/crio/crio.conf.d/99-nvidia.toml, also when --config is given; \"\" edits --config in place", RuntimeSpecificDefault)
        .String("executable-path", "the containerd or crio binary used with --config-source=command")
        .String("config-mode", "config-file (default) or oci-hook (deprecated)")
        .String("config-source", "where the current config is read from: file or command", "file")
        .String("oci-hook-path", "where the OCI hook JSON is written (default STDOUT)")
        .String("nvidia-runtime-name", "the name of the runtime entry", "nvidia")
        .String("nvidia-runtime-path", "the runtime executable", "nvidia-container-runtime", ["runtime-path"])
        .String("nvidia-runtime-hook-path", "the hook executable (oci-hook mode)", "/usr/bin/nvidia-container-runtime-hook")
        .Bool("nvidia-set-as-default", "make the runtime the engine's default", ["set-as-default"])
        .Bool("cdi.enabled", "enable CDI in the engine", ["cdi.enable", "enable-cdi"])
        .Bool("swarm-resources", "docker: advertise this node's GPUs (their UUIDs; MIG devices when MIG is on) to Docker Swarm as generic " +
                                 "resources of --swarm-resource-kind, make the runtime the default, and set swarm-resource in --toolkit-config to match")
        .String("swarm-resource-kind", "the generic-resource kind of --swarm-resources (implies it)", SwarmResource.DefaultKind)
        .String("driver-root", "where the driver is installed, for --swarm-resources to find the GPUs", "/")
        .String("toolkit-config", "the toolkit's config.toml that --swarm-resources sets swarm-resource in (default: $NVIDIA_CTK_CONFIG_FILE_PATH, " +
                                  "else ${XDG_CONFIG_HOME:-/etc}/nvidia-container-runtime/config.toml)")
        .Bool("unset", "undo a previous configure (same as 'runtime unconfigure')")
        .Bool("help", "show help", ["h"]);

    static ConfigureOptions Resolve(FlagSet f, EngineKind engine, bool undo, Log log)
    {
        var config = f.Get("config") is { Length: > 0 } c ? c : engine switch
        {
            EngineKind.Docker => "/etc/docker/daemon.json",
            EngineKind.Containerd => "/etc/containerd/config.toml",
            _ => "/etc/crio/crio.conf",
        };
        var dropIn = f.Get("drop-in-config") ?? "";
        if (dropIn == RuntimeSpecificDefault)
            dropIn = engine switch
            {
                EngineKind.Containerd => "/etc/containerd/conf.d/99-nvidia.toml",
                EngineKind.Crio => "/etc/crio/crio.conf.d/99-nvidia.toml",
                _ => "",
            };
        if (engine == EngineKind.Docker && dropIn.Length > 0) throw new UsageException("runtime docker does not support drop-in configs");
        if (f.Get("drop-in-config") == RuntimeSpecificDefault && f.Get("config") is { Length: > 0 } && dropIn.Length > 0)
            log.Info($"The runtime goes to the default drop-in {dropIn}, also with --config " +
                     (engine == EngineKind.Containerd ? $"({config} imports it)" : $"({config} is only read)") +
                     $"; --drop-in-config=\"\" edits {config} in place, --drop-in-config=PATH writes elsewhere");
        if (dropIn.Length > 0 && !Path.IsPathRooted(dropIn)) throw new UsageException($"the drop-in path must be absolute: {dropIn}");
        var path = f.Get("nvidia-runtime-path")!;
        if (engine != EngineKind.Docker)
        {
            if (path == "nvidia-container-runtime") path = "/usr/bin/nvidia-container-runtime";
            if (!Path.IsPathRooted(path)) throw new UsageException($"the runtime path must be absolute for {f.Get("runtime")}: {path}");
        }
        var cdi = f.GetBool("cdi.enabled");
        if (cdi && engine == EngineKind.Crio) { log.Warning("Ignoring --cdi.enabled: CRI-O always has CDI enabled"); cdi = false; }
        return new ConfigureOptions(engine, config, dropIn, f.Get("nvidia-runtime-name")!, path, f.GetBool("nvidia-set-as-default"), cdi, undo);
    }

    // Docker only: this node's GPUs from discovery under --driver-root (MIG devices in place of a GPU in MIG mode).
    // Unconfigure needs only the kind; it still asks, so that a file configure left untouched gets its backup back.
    static ConfigureOptions WithSwarm(ConfigureOptions o, FlagSet f, Log log)
    {
        if (o.Engine != EngineKind.Docker) throw new UsageException("--swarm-resources is for --runtime=docker");
        var kind = f.Get("swarm-resource-kind") ?? SwarmResource.DefaultKind;
        if (!SwarmResource.IsValidKind(kind)) throw new UsageException($"invalid --swarm-resource-kind '{kind}': it must be non-empty, without '=', ',' or spaces");
        var toolkit = f.Get("toolkit-config") is { Length: > 0 } t ? t : ToolkitConfigFile.DefaultPath();
        IReadOnlyList<string> ids = [];
        try
        {
            var inv = DriverDiscovery.Discover(new HostRoots(f.Get("driver-root") ?? "/"), new DiscoveryOptions { Graphics = false }, o.Undo ? Log.Silent : log);
            ids = SwarmDeviceCheck.NodeDevices(inv);
        }
        catch (GantryException) when (o.Undo) { }
        if (!o.Undo)
        {
            if (ids.Count == 0) throw new GantryException($"no GPUs found under driver root {f.Get("driver-root")}: nothing to advertise to Swarm");
            log.Info($"Advertising {ids.Count} device(s) to Swarm as {kind}: {string.Join(", ", ids)}");
        }
        return o with { SwarmKind = kind, SwarmIds = ids, ToolkitConfigPath = toolkit };
    }

    static string? ReadSource(FlagSet f, EngineKind engine, Log log)
    {
        var source = f.Get("config-source");
        if (source is not ("file" or "command")) throw new UsageException($"unrecognized config source '{source}': use file or command");
        if (f.IsSet("executable-path") && (source != "command" || engine == EngineKind.Docker))
            log.Warning($"Ignoring --executable-path {f.Get("executable-path")}: it is only used with --config-source=command for containerd or crio");
        if (source == "file") return null;
        if (engine == EngineKind.Docker) { log.Warning("Ignoring --config-source=command for docker; reading the file"); return null; }
        var exe = f.Get("executable-path") is { Length: > 0 } e ? e : engine == EngineKind.Containerd ? "containerd" : "crio";
        string[] argv = engine == EngineKind.Containerd ? ["config", "dump"] : ["status", "config"];
        var result = TryRun(exe, argv) ?? (engine == EngineKind.Crio ? TryRun("crio-status", ["config"]) : null);
        return result ?? throw new GantryException($"could not read the current config with '{exe} {string.Join(' ', argv)}'; use --config-source=file");
    }

    static string? TryRun(string exe, string[] argv)
    {
        try
        {
            var r = ProcessRunner.Run(exe, argv, timeout: TimeSpan.FromSeconds(30));
            return r.ExitCode == 0 ? r.Stdout : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException) { return null; }
    }
}

using Gantry.Common;

namespace Gantry.NvidiaCtk;

// nvidia-ctk: the same verbs and flags as the original CLI.
internal static class NvidiaCtkCommand
{
    /// <summary>The global flags (before the command).</summary>
    internal static FlagSet GlobalFlags() => new FlagSet()
            .Bool("debug", "enable debug-level logging", ["d"], ["NVIDIA_CTK_DEBUG"])
            .Bool("quiet", "suppress all output except for errors; overrides --debug", null, ["NVIDIA_CTK_QUIET"])
            .String("config", "path to the toolkit config file", null, null, ["NVIDIA_CTK_CONFIG"])
            .Bool("version", "print the version", ["v"])
            .Bool("help", "show help", ["h"]);

    public static int Run(string[] args)
    {
        var global = GlobalFlags();
        global.Parse(args, stopAtFirstPositional: true);
        if (global.GetBool("version")) { Console.WriteLine(VersionInfo.Text("NVIDIA Container Toolkit CLI")); return 0; }
        var log = Log.Stderr(global.GetBool("quiet") ? LogLevel.Error : global.GetBool("debug") ? LogLevel.Debug : LogLevel.Info);
        var rest = global.Positionals;
        if (rest.Count == 0 || global.GetBool("help")) { Console.WriteLine(Help); return 0; }
        var sub = rest.Skip(1).ToArray();
        // The original reads the global config file only in `cdi generate` (for nvidia-container-cli.root); say so
        // rather than let a user think `config` or `runtime` edits or reads it.
        if (global.Get("config") is { Length: > 0 } config && !(rest[0] == "cdi" && sub is ["generate", ..]))
            log.Warning($"Ignoring the global --config {config}: only 'nvidia-ctk cdi generate' reads it (for nvidia-container-cli.root)");
        return rest[0] switch
        {
            "hook" => Hooks.CdiHookCommand.Run("nvidia-ctk hook", sub),
            "cdi" => CdiCommands.Run(sub, log, global.Get("config")),
            "system" => HostSystem.SystemCommand.Run(sub, log),
            "config" => ConfigCommand.Run(sub, log, Console.Out),
            "runtime" => RuntimeConfigureCommand.Run(sub, log, Console.Out),
            // The original's `info` is an empty placeholder; Gantry's says what discovery sees.
            "info" => InfoCommand.Run(sub, log),
            _ => throw new UsageException($"unknown command '{rest[0]}'; see 'nvidia-ctk --help'"),
        };
    }

    const string Help = """
        NAME: nvidia-ctk - Tools to configure the NVIDIA Container Toolkit (Gantry)

        USAGE: nvidia-ctk [global options] command [command options]

        COMMANDS:
           info     Show the driver, CUDA version and GPUs this host offers (--json for machine-readable output)
           hook     A collection of hooks that may be injected into an OCI spec
           cdi      Provide tools for interacting with Container Device Interface specifications
           system   A collection of system-level utilities for working with the NVIDIA Container Toolkit
           runtime  Configure a container engine (configure) or undo it (unconfigure)
           config   Interact with the NVIDIA Container Toolkit configuration

        GLOBAL OPTIONS:
           --debug, -d   Enable debug-level logging [$NVIDIA_CTK_DEBUG]
           --quiet       Suppress all output except for errors; overrides --debug [$NVIDIA_CTK_QUIET]
           --config      Specify the config file [$NVIDIA_CTK_CONFIG]
           --version     Print the version
        """;
}

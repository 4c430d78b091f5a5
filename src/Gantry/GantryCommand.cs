using Gantry.Common;
using Gantry.NvidiaCtk;

namespace Gantry;

// `gantry VERB`: every front end by name, plus our own verbs (simulate, info, demo). It stands above the front
// ends, as Program does: it is the only place besides Program that may start one of them.
internal static class GantryCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help") { Console.WriteLine(Help); return 0; }
        if (args[0] is "--version" or "version") { Console.WriteLine($"gantry version {VersionInfo.Version}\ncompatible with NVIDIA Container Toolkit {VersionInfo.ToolkitVersion}"); return 0; }
        var rest = args.Skip(1).ToArray();
        var log = Log.Stderr();
        return args[0] switch
        {
            "cdi" => CdiCommands.Run(rest, log, null),
            "simulate" => SimulateCommand.Run(rest, log),
            "info" => InfoCommand.Run(rest, log),
            "demo" => DemoCommand.Run(rest, log),
            "doctor" => DoctorCommand.Run(rest, log, Console.Out),
            "hook" => Hooks.CdiHookCommand.Run("gantry hook", rest),
            "nvidia-ctk" or "nvidia-cdi-hook" or "nvidia-container-cli" => Program.Dispatch(args[0], rest),
            _ => throw new UsageException($"unknown command '{args[0]}'; see 'gantry --help'"),
        };
    }

    const string Help = """
        gantry - GPUs in containers, one binary for the whole NVIDIA container stack

        USAGE: gantry COMMAND [options]

        COMMANDS:
           simulate DIR   write a simulated GPU host (driver root, devices, procfs, NVML stand-in) to DIR
           info           show the driver, CUDA version and GPUs (--json for machine-readable output)
           doctor         check this host's GPU container set-up: each problem with its cause and the command that fixes it
                          (--json, --fix for the safe fixes, --run to start a container through each route)
           demo           simulate a host, generate its CDI spec, and run a real container with GPU 0
           cdi            generate | list | validate CDI specs (as nvidia-ctk cdi)
           hook           the CDI hooks (as nvidia-cdi-hook)
           nvidia-ctk | nvidia-cdi-hook | nvidia-container-cli ARGS...
                          that tool, as if started under its name

        The same binary answers to these names when started under them (out/ has them as links):
           nvidia-ctk, nvidia-cdi-hook, nvidia-container-cli, nvidia-container-runtime-hook,
           nvidia-container-toolkit, nvidia-docker; and, through gantry-runtime-launcher,
           nvidia-container-runtime, nvidia-container-runtime.cdi, nvidia-container-runtime.legacy.
        nvidia-docker-plugin is a second executable beside it.
        """;
}

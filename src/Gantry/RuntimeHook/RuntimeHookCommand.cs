using Gantry.Common;
using Gantry.Config;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Discovery.Inventory;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Requests;

namespace Gantry.RuntimeHook;

// nvidia-container-runtime-hook (also nvidia-container-toolkit): the OCI prestart hook of `docker run --gpus` and
// of the runtime's legacy mode. It reads the state on stdin and <bundle>/config.json, turns the request into an
// `nvidia-container-cli configure` command line and execs it (or, when that CLI is this program, runs it in this
// process); the CLI does the work. No discovery here (this runs for every GPU container), except for a Swarm task, whose ids are checked. Exit codes as the original: 0, 1 for any failure, 2 for a bad command line.
internal static class RuntimeHookCommand
{
    internal static FlagSet Flags() => new FlagSet()
        .Bool("debug", "log nvidia-container-cli's debug output to stderr")
        .String("config", "config.toml to read (default: $NVIDIA_CTK_CONFIG_FILE_PATH, else ${XDG_CONFIG_HOME:-/etc}/nvidia-container-runtime/config.toml)")
        .Bool("version", "print the version and exit")
        .Bool("help", "show this help", ["h"]);

    public static int Run(string name, string[] args, Func<string[], int> containerCli) =>
        Run(name, args, HookProcess.Current() with { InProcessCli = containerCli });

    internal static int Run(string name, string[] args, HookProcess process)
    {
        var flags = Flags();
        try { flags.Parse(args, stopAtFirstPositional: true); }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{name}: {e.Message}");
            Console.Error.Write(Usage(name, flags));
            return 2;
        }
        if (flags.GetBool("help")) { Console.Error.Write(Usage(name, flags)); return 0; }
        if (flags.GetBool("version")) { Console.Out.WriteLine(VersionInfo.Text("NVIDIA Container Runtime Hook")); return 0; }

        switch (flags.Positionals.FirstOrDefault())
        {
            case "prestart":
                try { return Prestart(flags.Get("config"), flags.GetBool("debug"), process); }
                catch (Exception e) when (e is GantryException or RequirementException or UnsupportedCapabilityException)
                {
                    Console.Error.WriteLine($"{name}: error: {e.Message}");
                    return 1;
                }
            case "poststart" or "poststop":
                return 0;
            default:
                Console.Error.Write(Usage(name, flags));
                return 2;
        }
    }

    static int Prestart(string? configFlag, bool debug, HookProcess process)
    {
        var config = LoadConfig(configFlag, process.Env);
        var state = ContainerState.Load(null, process.Stdin);
        var bundle = !string.IsNullOrEmpty(state.Bundle) ? state.Bundle : state.BundlePath;
        if (string.IsNullOrEmpty(bundle)) throw new GantryException("the container state on stdin names no bundle");
        var spec = PrestartSpec.Load(bundle);
        FaultPoint.Hit("prestart-spec-read");
        var request = CliRequest.From(spec.Facts, config);
        if (request is null) return 0; // not a GPU container
        foreach (var w in request.Warnings) Console.Error.WriteLine($"WARNING: {w}");
        CliRequest.AssertLegacyMode(config, request.Devices);
        // Ids from Swarm must be devices of this node; discovery runs only for such a task.
        if (request.SwarmSources.Count > 0)
        {
            var root = string.IsNullOrEmpty(config.NvidiaContainerCli.Root) ? "/" : config.NvidiaContainerCli.Root;
            var inv = DriverDiscovery.Discover(new HostRoots(root), new DiscoveryOptions
            {
                Graphics = false, RootSetting = "nvidia-container-cli.root", QueryNvml = NvmlSnapshotCache.QueryFor(null, Log.Silent),
            }, Log.Silent);
            SwarmDeviceCheck.Check(inv, request.SwarmSources);
        }

        // runc runs hooks in the bundle, which is what a relative root.path is relative to.
        var rootfs = Path.GetFullPath(Path.Combine(bundle, spec.RootPath));
        var cli = config.NvidiaContainerCli;
        var (cliPath, searchPath) = CliLocator.Locate(cli.Path, cli.Root, process.Env("PATH"), process.OwnDirectory, process.Os);
        var argv = ConfigureArgv.Build(config, cliPath, request, state.Pid, rootfs, debug, process.Os.Exists);
        var env = process.Environment.Where(e => searchPath is null || e.Key != "PATH").Select(e => $"{e.Key}={e.Value}").ToList();
        if (searchPath is not null) env.Add("PATH=" + searchPath);
        env.AddRange(cli.Environment);
        if (debug) Console.Error.WriteLine($"DEBUG: exec {string.Join(" ", argv)}");
        FaultPoint.Hit("prestart-before-cli");

        // The usual install links nvidia-container-cli to this very program: run it here, in the environment exec
        // would give it, rather than start the same executable a second time (~8 ms of every GPU container).
        if (process.InProcessCli is { } runCli && process.Os.IsThisExecutable(cliPath))
        {
            process.Os.ReplaceEnvironment([.. env]);
            return runCli(argv[1..]);
        }
        var r = process.Os.Exec(cliPath, argv, [.. env]);
        throw new GantryException($"cannot exec {cliPath}: {Errno.Describe(-r)}");
    }

    /// <summary>-config and NVIDIA_CTK_CONFIG_FILE_PATH name a file that must exist; the default path may be absent.</summary>
    internal static ToolkitConfig LoadConfig(string? configFlag, Func<string, string?> env)
    {
        var explicitPath = !string.IsNullOrEmpty(configFlag) ? configFlag : env(ToolkitConfigFile.PathVariable);
        if (string.IsNullOrEmpty(explicitPath)) return ToolkitConfigFile.Load(ToolkitConfigFile.DefaultPath(env));
        if (!File.Exists(explicitPath)) throw new GantryException($"cannot open the required config file {explicitPath}: no such file");
        return ToolkitConfigFile.Load(explicitPath);
    }

    static string Usage(string name, FlagSet flags) =>
        $"Usage: {name} [flags] COMMAND\n\nCommands:\n" +
        "   prestart\tadd the requested GPUs to the container (OCI prestart hook; the state comes on stdin)\n" +
        "   poststart\tdoes nothing\n" +
        "   poststop\tdoes nothing\n\nFlags:\n" + flags.Usage();
}

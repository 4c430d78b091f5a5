using Gantry.Common;

namespace Gantry.ContainerCli;

/// <summary>A failure printed as "nvidia-container-cli: &lt;prefix&gt; error: &lt;what&gt;", exit 1 like the original.</summary>
internal sealed class ContainerCliException(string message) : Exception(message);

/// <summary>The global options, as main.c keeps them in its context.</summary>
internal sealed record CliGlobals
{
    public string Root { get; init; } = "/";
    public string LdCache { get; init; } = "/etc/ld.so.cache";
    public bool LoadKmods { get; init; }
    public bool NoPivot { get; init; }
    public bool NoCreateImexChannels { get; init; }
    public (uint Uid, uint Gid)? User { get; init; }
    public required Log Log { get; init; }
}

// nvidia-container-cli: global options before the command (argp in order), then info | list | configure.
internal static class ContainerCliCommand
{
    public const string Program = "nvidia-container-cli";

    internal static readonly ArgpOption[] GlobalOptions =
    [
        new("debug", 'd', ArgpArg.Required, "FILE", "Log debug information"),
        new("load-kmods", 'k', ArgpArg.None, null, "Load kernel modules"),
        new("no-pivot", 'n', ArgpArg.None, null, "Do not use pivot_root"),
        new("user", 'u', ArgpArg.Optional, "UID[:GID]", "User and group to use for privilege separation"),
        new("root", 'r', ArgpArg.Required, "PATH", "Path to the driver root directory"),
        new("ldcache", 'l', ArgpArg.Required, "FILE", "Path to the system's DSO cache"),
        new("no-create-imex-channels", null, ArgpArg.None, null, "Don't automatically create IMEX channel device nodes"),
    ];

    static readonly (string, string)[] Commands =
    [
        ("configure", "Configure a container with GPU support"),
        ("info", "Report information about the driver and devices"),
        ("list", "List driver components"),
    ];

    public static int Run(string[] args)
    {
        try
        {
            return Dispatch(args);
        }
        catch (ArgpException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Argp.TryHint(ProgramOf(e)));
            return 1;
        }
        catch (ContainerCliException e)
        {
            Console.Error.WriteLine($"{Program}: {e.Message}");
            return 1;
        }
        catch (GantryException e)
        {
            Console.Error.WriteLine($"{Program}: detection error: {e.Message}");
            return 1;
        }
    }

    // The hint names the (sub)command whose parser failed: "nvidia-container-cli list: …".
    static string ProgramOf(ArgpException e) => e.Message.StartsWith(Program + " ", StringComparison.Ordinal)
        ? e.Message[..e.Message.IndexOf(':')] : Program;

    static int Dispatch(string[] args)
    {
        var parsed = Argp.Parse(Program, args, GlobalOptions, inOrder: true);
        if (parsed.Has("help")) { Console.Write(Argp.HelpText(Program, "COMMAND [ARG...]", "Command line utility for manipulating NVIDIA GPU containers.", GlobalOptions, Commands)); return 0; }
        if (parsed.Has("usage")) { Console.WriteLine(Argp.UsageText(Program, "COMMAND [ARG...]", GlobalOptions)); return 0; }
        if (parsed.Has("version")) { Console.Write(ContainerCliVersion.Text); return 0; }

        var globals = Globals(parsed);
        if (parsed.Operands.Count == 0 || parsed.Operands[0] is not ("info" or "list" or "configure"))
        {
            Console.Error.WriteLine($"Usage: {Program} [OPTION...] COMMAND [ARG...]");
            Console.Error.WriteLine(Argp.TryHint(Program));
            return 1;
        }
        var rest = parsed.Operands.Skip(1).ToArray();
        return parsed.Operands[0] switch
        {
            "info" => InfoSubcommand.Run(rest, globals),
            "list" => ListSubcommand.Run(rest, globals),
            _ => ConfigureSubcommand.Run(rest, globals),
        };
    }

    static CliGlobals Globals(ArgpResult parsed)
    {
        var g = new CliGlobals { Log = Log.Silent };
        string? debugFile = Environment.GetEnvironmentVariable("NVC_DEBUG_FILE");
        foreach (var (name, value) in parsed.Options)
        {
            g = name switch
            {
                "debug" => g,
                "load-kmods" => g with { LoadKmods = true },
                "no-pivot" => g with { NoPivot = true },
                "no-create-imex-channels" => g with { NoCreateImexChannels = true },
                "user" => g with { User = value is null ? UserSpec.Current() : UserSpec.Parse(value) },
                "root" => g with { Root = value! },
                "ldcache" => g with { LdCache = value! },
                _ => g,
            };
            if (name == "debug") debugFile = value;
        }
        g = g with { Log = DebugLog(debugFile) };
        // The original drops to this user for its own work (privilege separation); Gantry keeps the caller's.
        if (g.User is { } user)
            Console.Error.WriteLine($"nvidia-container-cli: warning: --user={user.Uid}:{user.Gid} (privilege separation) is not implemented by gantry; it runs as the calling user");
        // The original creates missing IMEX channel nodes unless told not to; Gantry never creates them (a missing one is an error).
        if (g.NoCreateImexChannels) g.Log.Debug("--no-create-imex-channels: gantry never creates IMEX channel nodes, so there is nothing to turn off");
        return g;
    }

    // -d FILE: the library appends its log to FILE (/dev/stderr is the usual choice); nothing is logged otherwise.
    static Log DebugLog(string? file)
    {
        if (string.IsNullOrEmpty(file)) return Log.Silent;
        if (file is "/dev/stderr") return new Log(Console.Error, LogLevel.Debug);
        try
        {
            var writer = new StreamWriter(new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            writer.WriteLine("\n-- WARNING, the following logs are for debugging purposes only --\n");
            return new Log(writer, LogLevel.Debug);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainerCliException($"initialization error: open failed: {file}: {e.Message.ToLowerInvariant()}");
        }
    }

}

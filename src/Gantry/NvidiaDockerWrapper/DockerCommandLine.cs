
namespace Gantry.NvidiaDockerWrapper;

/// <summary>Where things are in a docker command line: its global options, the sub-command and, for run/create, the image.</summary>
internal sealed record DockerCommandLine
{
    /// <summary>"run", "create", "version", …; "container run" is "run". Null when there is none.</summary>
    public string? Command { get; init; }
    /// <summary>Index of the image argument of run/create; -1 when there is none (docker then reports the error).</summary>
    public int ImageIndex { get; init; } = -1;
    /// <summary>The global options before the sub-command (-H, --context, --config, --tls…), to reach the same daemon.</summary>
    public IReadOnlyList<string> GlobalOptions { get; init; } = [];

    public bool IsRunOrCreate => Command is "run" or "create";
}

// Finds the sub-command and the image among docker's options the way the docker CLI (pflag) reads them: a long
// option takes the next argument unless it is boolean or written --opt=value; in a cluster of short options
// the first one that takes a value takes the rest of the cluster, or the next argument if it ends the cluster;
// "--" ends the options. Boolean options are those of today's docker CLI (20.10 to 28.x), for run and create.
internal static class DockerArgs
{
    static readonly HashSet<string> GlobalBooleans = ["debug", "D", "tls", "tlsverify", "version", "v", "help", "h"];

    static readonly HashSet<string> RunBooleans =
    [
        "detach", "d", "disable-content-trust", "help", "init", "interactive", "i", "no-healthcheck", "oom-kill-disable",
        "privileged", "publish-all", "P", "quiet", "q", "read-only", "rm", "sig-proxy", "tty", "t", "use-api-socket",
    ];

    public static DockerCommandLine Parse(IReadOnlyList<string> args)
    {
        var command = NextPositional(args, 0, GlobalBooleans);
        if (command < 0) return new DockerCommandLine();
        var globals = args.Take(command).ToList();
        var name = args[command];
        if (name == "container")
        {
            var sub = NextPositional(args, command + 1, ["help"]);
            if (sub < 0 || args[sub] is not ("run" or "create")) return new DockerCommandLine { Command = name, GlobalOptions = globals };
            command = sub;
            name = args[sub];
        }
        if (name is not ("run" or "create")) return new DockerCommandLine { Command = name, GlobalOptions = globals };
        return new DockerCommandLine { Command = name, GlobalOptions = globals, ImageIndex = NextPositional(args, command + 1, RunBooleans) };
    }

    /// <summary>Index of the first argument from start that is not an option or an option's value; -1 if none.</summary>
    static int NextPositional(IReadOnlyList<string> args, int start, HashSet<string> booleans)
    {
        for (var i = start; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--") return i + 1 < args.Count ? i + 1 : -1;
            if (arg.Length < 2 || arg[0] != '-') return i;
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (!arg.Contains('=') && !booleans.Contains(arg[2..])) i++;
                continue;
            }
            for (var c = 1; c < arg.Length; c++)
            {
                if (booleans.Contains(arg[c].ToString())) continue;
                if (c == arg.Length - 1) i++;   // "-e" then its value; "-eFOO=1" or "-v/a:/b" carry it
                break;
            }
        }
        return -1;
    }
}

using Gantry.Common;

namespace Gantry.Runtime;

/// <summary>The runc global options and facts the shim needs from a command line; everything is forwarded as is.</summary>
internal sealed record RuntimeArgs
{
    public bool Version { get; init; }
    public bool IsCreate { get; init; }
    /// <summary>The bundle directory ("" means the current directory), last --bundle/-b wins.</summary>
    public string Bundle { get; init; } = "";
    public string? LogFile { get; init; }
    public string? LogFormat { get; init; }
    public bool Debug { get; init; }

    static readonly string[] BundleFlags = ["b", "bundle"];

    /// <summary>
    /// The runc global options the shim reads itself; every argument, these included, is forwarded to runc as is.
    /// version prints the shim's version before runc's; debug sets the shim's log level to debug; bundle (b) is where
    /// config.json is edited on create; log and log-format are where and how the shim logs too; root is only
    /// stepped over (its value is runc's state directory, never a command such as "create").
    /// </summary>
    public static readonly string[] Options = ["version", "debug", "bundle", "b", "log", "log-format", "root"];

    /// <summary>runc-style: one or two dashes, "=value" or the next argument. Throws UsageException for a dangling value flag.</summary>
    public static RuntimeArgs Parse(IReadOnlyList<string> args)
    {
        bool version = false, create = false, debug = false;
        string bundle = "";
        string? log = null, logFormat = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "create" && !(i > 0 && IsBundleFlag(args[i - 1]))) { create = true; continue; }
            if (arg.Length < 2 || arg[0] != '-' || arg == "--") continue;
            var body = arg.TrimStart('-');
            var eq = body.IndexOf('=');
            var name = eq < 0 ? body : body[..eq];
            if (!Options.Contains(name)) continue;
            string Value(string flag)
            {
                if (eq >= 0) return body[(eq + 1)..];
                if (i + 1 >= args.Count) throw new UsageException($"{flag} option requires an argument");
                return args[++i];
            }
            switch (name)
            {
                case "version": version = true; break;
                case "debug": debug = eq < 0 || body[(eq + 1)..] is not ("false" or "0"); break;
                case "b" or "bundle": bundle = Value("bundle"); break;
                case "log": log = Value("log"); break;
                case "log-format": logFormat = Value("log-format"); break;
                case "root": Value("root"); break;
            }
        }
        return new RuntimeArgs { Version = version, IsCreate = create, Bundle = bundle, LogFile = log, LogFormat = logFormat, Debug = debug };
    }

    static bool IsBundleFlag(string arg) =>
        arg.Length > 1 && arg[0] == '-' && !arg.Contains('=') && BundleFlags.Contains(arg.TrimStart('-'));

    /// <summary>The spec the bundle holds.</summary>
    public string SpecPath => Path.Combine(Bundle.Length == 0 ? Directory.GetCurrentDirectory() : Path.GetFullPath(Bundle), "config.json");
}

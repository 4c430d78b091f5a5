using Gantry.Cdi;
using Gantry.Common;

namespace Gantry.NvidiaCtk;

// `nvidia-ctk cdi transform root`: rewrites a spec's root (--from → --to) on its host or container side. The spec is
// read strictly and written back as it was otherwise: same cdiVersion and kind, no simplification.
internal static class CdiTransformRoot
{
    internal static FlagSet Flags() => new FlagSet()
        .String("from", "the root to transform from")
        .String("to", "the root to transform to")
        .String("relative-to", "host: transform host paths; container: transform the paths in the container", "host")
        .String("input", "the spec to read (- for STDIN)", "-")
        .String("output", "the file to write the transformed spec to (default: STDOUT)")
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log, TextWriter? stdout = null)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            (stdout ?? Console.Out).Write("USAGE: nvidia-ctk cdi transform COMMAND [options]\n\nCOMMANDS:\n   root  Apply a root transform to a CDI specification\n");
            return 0;
        }
        if (args[0] != "root") throw new UsageException($"unknown cdi transform command '{args[0]}': the commands are root");
        var f = Flags().Parse(args[1..]);
        if (f.GetBool("help")) { (stdout ?? Console.Out).Write("USAGE: nvidia-ctk cdi transform root [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");
        var side = f.GetOr("relative-to", "host") switch
        {
            "host" => RootSide.Host,
            "container" => RootSide.Container,
            var other => throw new UsageException($"invalid --relative-to value: {other} (use host or container)"),
        };
        var input = f.GetOr("input", "-");
        if (!SpecFile.TryRead(input, out var spec, out var error))
            throw new GantryException($"failed to read spec {(input == "-" ? "from STDIN" : input)}: {error}");
        new RootTransform(f.Get("from") ?? "", f.Get("to") ?? "", side).Apply(spec);
        var output = f.Get("output");
        var format = SpecFile.FormatOf(string.IsNullOrEmpty(output) ? input : output) ?? SpecFormat.Yaml;
        var written = SpecWriter.Write(spec, output, format, formatExplicit: false, log, stdout, keepVersion: true);
        if (written != "-") log.Info($"Wrote transformed CDI spec to {written}");
        return 0;
    }
}

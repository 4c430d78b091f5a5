using Gantry.Cdi;
using Gantry.Common;

namespace Gantry.NvidiaCtk;

// `gantry cdi validate FILE...`: reads each spec strictly and prints every problem as "FILE: location: problem".
internal static class CdiValidate
{
    internal static FlagSet Flags() => new FlagSet().Bool("help", "show help", ["h"]);

    public static int Run(string[] args, TextWriter output)
    {
        var flags = Flags();
        flags.Parse(args);
        if (flags.GetBool("help"))
        {
            output.Write("USAGE: gantry cdi validate FILE... (- reads stdin)\n\nChecks each CDI spec against the CDI rules; exit 1 when any is invalid.\n\nOPTIONS:\n" + flags.Usage());
            return 0;
        }
        if (flags.Positionals.Count == 0) throw new UsageException("validate needs at least one spec file (or - for stdin)");
        var failed = false;
        foreach (var file in flags.Positionals)
        {
            if (!SpecFile.TryRead(file, out var spec, out var error))
            {
                output.WriteLine(error.Line is int line ? $"{file}: line {line}, column {error.Column}: {error.Message}" : $"{file}: {error.Message}");
                failed = true;
                continue;
            }
            var problems = SpecValidator.Validate(spec);
            foreach (var p in problems) output.WriteLine($"{file}: {p}");
            if (problems.Count > 0) failed = true;
            else output.WriteLine($"{file}: valid (cdiVersion {spec.CdiVersion}, {spec.Devices.Count} devices)");
        }
        return failed ? 1 : 0;
    }
}

using Gantry.Cdi;
using Gantry.Common;

namespace Gantry.NvidiaCtk;

// `gantry cdi validate FILE...`: reads each spec strictly and prints every problem as "FILE: location: problem".
internal static class CdiValidate
{
    internal static FlagSet Flags() => new FlagSet()
        .Bool("host", "also check that every host file the specs name exists and that they were made for the running driver")
        .String("driver-root", "with --host: the driver root whose /proc says which driver runs", "/")
        .List("spec-dir", "with --host and no FILE: the spec directories to check", string.Join(",", SpecRegistry.DefaultDirs))
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, TextWriter output)
    {
        var flags = Flags();
        flags.Parse(args);
        if (flags.GetBool("help"))
        {
            output.Write("USAGE: gantry cdi validate [--host] FILE... (- reads stdin)\n\nChecks each CDI spec against the CDI rules (and with --host against this host); " +
                         "exit 1 when any is invalid.\n\nOPTIONS:\n" + flags.Usage());
            return 0;
        }
        var host = flags.GetBool("host");
        if (flags.Positionals.Count == 0 && host)
            flags.Positionals.AddRange(flags.GetList("spec-dir").Where(Directory.Exists)
                .SelectMany(d => Directory.EnumerateFiles(d).Where(f => SpecFile.FormatOf(f) is not null)).Order(StringComparer.Ordinal));
        if (flags.Positionals.Count == 0)
            throw new UsageException(host ? $"validate --host: no spec files in {string.Join(", ", flags.GetList("spec-dir"))}" : "validate needs at least one spec file (or - for stdin)");
        var running = host ? Discovery.ProcDriver.DriverVersion(new Host.HostRoots(flags.GetOr("driver-root", "/"))) : null;
        var failed = false;
        foreach (var file in flags.Positionals)
        {
            if (!SpecFile.TryRead(file, out var spec, out var error))
            {
                output.WriteLine(error.Line is int line ? $"{file}: line {line}, column {error.Column}: {error.Message}" : $"{file}: {error.Message}");
                failed = true;
                continue;
            }
            var problems = SpecValidator.Validate(spec).ToList();
            if (host && SpecHostCheck.Problem(file, spec.Devices.Select(d => d.ContainerEdits).Prepend(spec.ContainerEdits ?? new()), running) is { } stale)
                problems.Add(new SpecProblem("", stale));
            foreach (var p in problems) output.WriteLine($"{file}: {p}");
            if (problems.Count > 0) failed = true;
            else output.WriteLine($"{file}: valid (cdiVersion {spec.CdiVersion}, {spec.Devices.Count} devices)");
        }
        return failed ? 1 : 0;
    }
}

using Gantry.Cdi;
using Gantry.Common;

namespace Gantry.NvidiaCtk;

// `nvidia-ctk cdi list`: every device the CDI spec directories offer, one qualified name per line on stdout.
internal static class CdiList
{
    internal static FlagSet Flags() => new FlagSet()
        .List("spec-dir", "specify the directories to scan for CDI specifications",
            string.Join(',', SpecRegistry.DefaultDirs), null, ["NVIDIA_CTK_CDI_SPEC_DIRS"])
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log, TextWriter? stdout = null)
    {
        var flags = Flags();
        flags.Parse(args);
        stdout ??= Console.Out;
        if (flags.GetBool("help")) { stdout.Write("USAGE: nvidia-ctk cdi list [options]\n\nOPTIONS:\n" + flags.Usage()); return 0; }
        if (flags.Positionals.Count > 0) throw new UsageException($"unexpected argument '{flags.Positionals[0]}'");
        var dirs = flags.GetList("spec-dir");
        if (dirs.Count == 0) throw new GantryException("at least one CDI specification directory must be specified");

        var registry = SpecRegistry.Load(dirs);
        foreach (var error in registry.Errors) log.Warning(error.ToString());
        var names = registry.DeviceNames;
        log.Info($"Found {names.Count} CDI devices");
        foreach (var name in names) stdout.WriteLine(name);
        return 0;
    }
}

using Gantry.Common;

namespace Gantry.NvidiaCtk;

internal static class CdiCommands
{
    public static int Run(string[] args, Log log, string? toolkitConfig)
    {
        if (args.Length == 0) throw new UsageException("cdi needs a command: generate, refresh, list, transform, validate");
        if (args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine("USAGE: cdi COMMAND [options]\n\nCOMMANDS:\n   generate  write a CDI spec for this host's GPUs\n   refresh   regenerate the spec (default /var/run/cdi/nvidia.yaml), replacing it only when it changed\n   list      list the CDI devices of the spec directories\n   transform transform a CDI spec (root: move its paths from one root to another)\n   validate  check spec files against the CDI rules\n\nEach command takes --help.");
            return 0;
        }
        var sub = args.Skip(1).ToArray();
        return args[0] switch
        {
            "generate" => CdiGenerateCommand.Run(sub, log, toolkitConfig),
            "refresh" => CdiRefresh.Run(sub, log, toolkitConfig),
            "list" => CdiList.Run(sub, log),
            "transform" => CdiTransformRoot.Run(sub, log),
            "validate" => CdiValidate.Run(sub, Console.Out),
            _ => throw new UsageException($"unknown cdi command '{args[0]}'"),
        };
    }
}

using Gantry.Common;

namespace Gantry.NvidiaCtk;

internal static class CdiCommands
{
    public static int Run(string[] args, Log log, string? toolkitConfig)
    {
        if (args.Length == 0) throw new UsageException("cdi needs a command: generate, list, validate");
        var sub = args.Skip(1).ToArray();
        return args[0] switch
        {
            "generate" => CdiGenerateCommand.Run(sub, log),
            "list" => CdiList.Run(sub, log),
            "validate" => CdiValidate.Run(sub, Console.Out),
            _ => throw new UsageException($"unknown cdi command '{args[0]}'"),
        };
    }
}

using Gantry.NvidiaCtk;
using Gantry.Common;
using Gantry.ContainerCli;
using Gantry.NvidiaDockerWrapper;
using Gantry.RuntimeHook;

namespace Gantry;

internal static class Program
{
    static int Main(string[] args)
    {
        var name = InvokedName();
        try
        {
            return Dispatch(name, args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{name}: incorrect usage: {e.Message}");
            return 1;
        }
        catch (GantryException e)
        {
            Console.Error.WriteLine($"{name}: error: {e.Message}");
            return e.ExitCode;
        }
    }

    // One binary, many names: the name it was started under picks the front end.
    internal static int Dispatch(string name, string[] args) => name switch
    {
        "nvidia-ctk" => NvidiaCtkCommand.Run(args),
        "nvidia-cdi-hook" => Hooks.CdiHookCommand.Run(name, args),
        "nvidia-container-cli" => ContainerCliCommand.Run(args),
        "nvidia-container-runtime-hook" or "nvidia-container-toolkit" => RuntimeHookCommand.Run(name, args, ContainerCliCommand.Run),
        "nvidia-container-runtime" or "nvidia-container-runtime.cdi" or "nvidia-container-runtime.legacy" => Runtime.RuntimeCommand.Run(name, args),
        "nvidia-docker" => NvidiaDockerCommand.Run(Argv0(), args),
        _ => GantryCommand.Run(args),
    };

    static string InvokedName() => Path.GetFileName(Argv0());

    static string Argv0() => Environment.GetCommandLineArgs() is { Length: > 0 } a ? a[0] : "gantry";
}

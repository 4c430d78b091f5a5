using System.Text;
using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

/// <summary>Runs hooks in-process against a <see cref="TestTree"/>, with the state JSON on a fake stdin.</summary>
internal sealed class HookHarness(TestTree tree, ISyscalls? sys = null, string? procRoot = null)
{
    readonly StringWriter _log = new();
    public string LogText => _log.ToString();
    public ISyscalls Sys { get; } = sys ?? LinuxSyscalls.Instance;

    /// <summary>The gantry executable built next to the tests (an apphost), standing in for /proc/self/exe.</summary>
    public static string GantryExe => Path.Combine(AppContext.BaseDirectory, "gantry");

    public HookContext Context => new(new Log(_log, LogLevel.Debug), Sys,
        () => new MemoryStream(Encoding.UTF8.GetBytes(tree.StateJson())), procRoot ?? Path.Combine(tree.Base, "proc"), GantryExe);

    public void Invoke(ICdiHook hook, params string[] args)
    {
        var flags = hook.DefineFlags();
        flags.Parse(args);
        hook.Run(flags, Context);
    }

    public int Command(params string[] args) => CdiHookCommand.Run("nvidia-cdi-hook", args, Context);
}

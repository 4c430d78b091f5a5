using Gantry.Common;

namespace Gantry.Hooks;

// nvidia-cdi-hook (also `nvidia-ctk hook`, `gantry hook`). Unknown or missing hook names are warnings with exit
// code 0, so that a spec written for a newer toolkit never fails a container on an older one.
internal static class CdiHookCommand
{
    public static IReadOnlyList<ICdiHook> Hooks { get; } =
    [
        new CreateSymlinksHook(),
        new UpdateLdcacheHook(),
        new ChmodHook(),
        new EnableCudaCompatHook(),
        new DisableDeviceNodeModificationHook(),
        new UpdateApplicationProfileHook(),
        new NoopHook(),
        new LdconfigChildHook(),
    ];

    /// <summary>The hook of that name, or null.</summary>
    public static ICdiHook? Find(string name) => Hooks.FirstOrDefault(h => h.Name == name);

    public static int Run(string programName, string[] args) => Run(programName, args, null);

    /// <summary>The options before the hook's name.</summary>
    internal static FlagSet GlobalFlags() => new FlagSet()
        .Bool("debug", "enable debug-level logging", ["d"], ["NVIDIA_CTK_DEBUG", "NVIDIA_CDI_DEBUG"])
        .Bool("quiet", "suppress all output except for errors; overrides --debug", null, ["NVIDIA_CTK_QUIET", "NVIDIA_CDI_QUIET"])
        .Bool("version", "print the version", ["v"])
        .Bool("help", "show help", ["h"]);

    internal static int Run(string programName, string[] args, HookContext? context)
    {
        // The update-ldcache child is started as "<exe> hook …"; a binary itself named nvidia-cdi-hook lands here with it.
        if (args.Length > 1 && args[0] == "hook" && args.Contains(LdconfigChildHook.VerbName)) args = args[1..];
        var global = GlobalFlags();
        global.Parse(args, stopAtFirstPositional: true);
        if (global.GetBool("version")) { Console.Out.WriteLine(VersionInfo.Text("NVIDIA CDI Hook")); return 0; }
        var level = global.GetBool("quiet") ? LogLevel.Error : global.GetBool("debug") ? LogLevel.Debug : LogLevel.Info;
        var log = context?.Log ?? Log.Stderr(level);
        log.Level = level;
        var ctx = context ?? HookContext.FromEnvironment(log);

        if (global.Positionals.Count == 0)
        {
            if (global.GetBool("help")) { Console.Error.Write(Usage(programName)); return 0; }
            log.Warning("No CDI hook specified");
            return 0;
        }
        var name = global.Positionals[0];
        if (name == ChainHook.VerbName) return ChainHook.Run(programName, global.Positionals.Skip(1).ToList(), ctx);
        return RunOne(programName, name, global.Positionals.Skip(1).ToList(), ctx);
    }

    /// <summary>One hook by name with its own arguments; an unknown name is a warning and success.</summary>
    internal static int RunOne(string programName, string name, IReadOnlyList<string> args, HookContext ctx)
    {
        var hook = Hooks.FirstOrDefault(h => h.Name == name);
        if (hook is null)
        {
            ctx.Log.Warning($"Unsupported CDI hook: {name}");
            return 0;
        }
        var flags = hook.DefineFlags().Bool("help", "show help", ["h"]);
        flags.Parse(args);
        if (flags.GetBool("help"))
        {
            Console.Error.Write($"NAME:\n   {programName} {hook.Name} - {hook.Summary}\n\nOPTIONS:\n{flags.Usage()}");
            return 0;
        }
        hook.Run(flags, ctx);
        return 0;
    }

    static string Usage(string programName)
    {
        var w = new StringWriter();
        w.WriteLine($"NAME:\n   {programName} - Hooks for injecting NVIDIA devices into containers\n");
        w.WriteLine($"USAGE:\n   {programName} [global options] command [command options]\n\nCOMMANDS:");
        foreach (var h in Hooks.Where(h => !h.Hidden)) w.WriteLine($"   {h.Name,-34} {h.Summary}");
        w.WriteLine($"   {ChainHook.VerbName,-34} Run several hooks in one process: HOOK [ARGS] {ChainHook.Separator} HOOK [ARGS] ...");
        w.WriteLine("\nGLOBAL OPTIONS:\n   --debug, -d   enable debug-level logging [$NVIDIA_CTK_DEBUG, $NVIDIA_CDI_DEBUG]");
        w.WriteLine("   --quiet       suppress all output except for errors; overrides --debug [$NVIDIA_CTK_QUIET, $NVIDIA_CDI_QUIET]");
        return w.ToString();
    }
}

internal sealed class NoopHook : ICdiHook
{
    public string Name => "noop";
    public string Summary => "does nothing (for tests and placeholders)";
    public bool Hidden => true;
    public FlagSet DefineFlags() => new FlagSet().WithContainerSpec();
    public void Run(FlagSet flags, HookContext context) { }
}

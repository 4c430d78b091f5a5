using Gantry.Cli;
using Gantry.Host;

namespace Gantry.Hooks;

// The hidden verb the update-ldcache hook re-executes itself as when it cannot confine a thread of its own
// (LdconfigThreadRunner). It runs on the process's main thread (Main calls it synchronously): LdconfigJail's
// steps, then execveat of the bound ldconfig by fd (no path lookup left for a racing image to redirect).
internal sealed class LdconfigChildHook : ICdiHook
{
    public const string VerbName = "__update-ldcache-child";
    public string Name => VerbName;
    public string Summary => "internal: run the host ldconfig confined to a container root";
    public bool Hidden => true;

    public FlagSet DefineFlags() => new FlagSet()
        .String("container-root", "host path of the container root")
        .String("ldconfig-path", "host path of ldconfig")
        .String("scratch-name", "name of the scratch directory under /run/nvidia-ctk-hook");

    public void Run(FlagSet flags, HookContext context)
    {
        var rootPath = flags.Get("container-root");
        var ldconfig = flags.Get("ldconfig-path");
        var scratch = flags.Get("scratch-name");
        if (string.IsNullOrEmpty(rootPath) || rootPath == "/" || !rootPath.StartsWith('/'))
            throw new GantryException($"{VerbName}: an absolute container root other than \"/\" is required");
        if (string.IsNullOrEmpty(ldconfig) || string.IsNullOrEmpty(scratch) || !ContainerPath.IsPlainName(scratch))
            throw new GantryException($"{VerbName}: --ldconfig-path and a plain --scratch-name are required");
        // Everything that may need a file from the host (console, assemblies in a non-AOT build, /proc) is touched
        // before the root changes; after pivot_root only syscalls are left.
        var lastCap = LinuxSyscalls.LastCapability();
        try
        {
            Execute(context.Sys, rootPath, ldconfig, scratch, lastCap, context.Log);
        }
        catch (Exception e)
        {
            // Past pivot_root a non-AOT build cannot even load the console: report with write(2) and _exit(2).
            var message = $"failed to run {ldconfig} in container root {rootPath}: {e.Message}\n";
            context.Sys.Write(2, System.Text.Encoding.UTF8.GetBytes(message));
            context.Sys.Exit(1);
        }
    }

    static void Execute(ISyscalls sys, string rootPath, string ldconfig, string scratch, int lastCap, Log log)
    {
        SyscallResult.Check(sys.Unshare(LdconfigJail.Namespaces), "unshare", "mount/uts/ipc/net namespaces");
        using var jail = LdconfigJail.Prepare(sys, rootPath, ldconfig, scratch);
        log.Debug($"executing {ldconfig} as {jail.ExePath} in {rootPath} (pid {Environment.ProcessId} in its PID namespace)");
        Console.Error.Flush();
        LdconfigJail.Enter(sys, jail.Root, lastCap);
        var r = sys.ExecveAt(jail.Exe.Value, "", LdconfigJail.Arguments(ldconfig), [LdconfigChildLauncher.FixedPath], At.EmptyPath);
        throw new SyscallException("execveat", ldconfig, -r);
    }
}

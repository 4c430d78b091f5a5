using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;

namespace Gantry.Hooks;

// The hidden verb the update-ldcache hook (when it cannot confine a thread of its own, LdconfigThreadRunner) and
// nvidia-container-cli configure re-execute themselves as. It runs on the process's main thread (Main calls it
// synchronously): LdconfigJail's steps, then small rlimits, a seccomp allow-list of the system calls ldconfig makes
// (LdconfigSyscallFilter) and execveat of the bound ldconfig by fd (no path lookup left for a racing image to
// redirect). With --container-binary (configure without '@') the image's own ldconfig is run instead, by its path
// inside the pivoted root, with no capability at all; a missing one is skipped as the original does. It gets no
// seccomp filter: it may be a wrapper script, and it is the image's code, which the container runs anyway.
internal sealed class LdconfigChildHook : ICdiHook
{
    public const string VerbName = LdconfigChildLauncher.ChildVerb;

    public string Name => VerbName;
    public string Summary => "internal: run the host ldconfig confined to a container root";
    public bool Hidden => true;

    public FlagSet DefineFlags() => new FlagSet()
        .String("container-root", "host path of the container root")
        .String("ldconfig-path", "host path of ldconfig")
        .String("scratch-name", "name of the scratch directory under /run/nvidia-ctk-hook")
        .List("folder", "directory to scan in addition to /etc/ld.so.conf")
        .Bool("container-binary", "ldconfig-path names the container's own ldconfig, inside the root")
        .Bool("no-pivot", "chroot into the root instead of pivot_root (nvidia-container-cli --no-pivot)");

    public void Run(FlagSet flags, HookContext context)
    {
        var rootPath = flags.Get("container-root");
        var ldconfig = flags.Get("ldconfig-path");
        var scratch = flags.Get("scratch-name");
        var inContainer = flags.GetBool("container-binary");
        if (string.IsNullOrEmpty(rootPath) || rootPath == "/" || !rootPath.StartsWith('/'))
            throw new GantryException($"{VerbName}: an absolute container root other than \"/\" is required");
        if (string.IsNullOrEmpty(ldconfig) || (!inContainer && (string.IsNullOrEmpty(scratch) || !ContainerPath.IsPlainName(scratch))))
            throw new GantryException($"{VerbName}: --ldconfig-path and a plain --scratch-name are required");
        string[] argv = [Path.GetFileName(ldconfig), "-f", "/etc/ld.so.conf", "-C", "/etc/ld.so.cache", .. flags.GetList("folder")];
        // Everything that may need a file from the host (console, assemblies in a non-AOT build, /proc) is touched
        // before the root changes; after pivot_root only syscalls are left.
        var lastCap = LinuxSyscalls.LastCapability();
        try
        {
            var noPivot = flags.GetBool("no-pivot");
            if (inContainer) ExecuteContainerBinary(context.Sys, rootPath, ldconfig, argv, lastCap, noPivot, context.Log);
            else Execute(context.Sys, rootPath, ldconfig, scratch!, argv, lastCap, noPivot, context.Log);
        }
        catch (Exception e)
        {
            // Past pivot_root a non-AOT build cannot even load the console: report with write(2) and _exit(2).
            var message = $"failed to run {ldconfig} in container root {rootPath}: {e.Message}\n";
            context.Sys.Write(2, System.Text.Encoding.UTF8.GetBytes(message));
            context.Sys.Exit(1);
        }
    }

    static void Execute(ISyscalls sys, string rootPath, string ldconfig, string scratch, string[] argv, int lastCap, bool noPivot, Log log)
    {
        SyscallResult.Check(sys.Unshare(LdconfigJail.Namespaces), "unshare", "mount/uts/ipc/net namespaces");
        using var jail = LdconfigJail.Prepare(sys, rootPath, ldconfig, scratch);
        log.Debug($"executing {ldconfig} as {jail.ExePath} in {rootPath} (pid {Environment.ProcessId} in its PID namespace)");
        Console.Error.Flush();
        LdconfigJail.Enter(sys, jail, lastCap, noPivot);
        LimitResources(sys);
        // The last step before execveat: from here on only ldconfig's own system calls are allowed.
        if (LdconfigSyscallFilter.Build(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture) is { } filter)
            SyscallResult.Check(sys.SetSeccompFilter(filter), "install seccomp filter", "ldconfig");
        var r = sys.ExecveAt(jail.Exe.Value, "", argv, [LdconfigChildLauncher.FixedPath], At.EmptyPath);
        throw new SyscallException("execveat", ldconfig, -r);
    }

    // The image's ldconfig runs as the image's code: pivoted, masked, with no capability, inheritable or other.
    static void ExecuteContainerBinary(ISyscalls sys, string rootPath, string ldconfig, string[] argv, int lastCap, bool noPivot, Log log)
    {
        SyscallResult.Check(sys.Unshare(LdconfigJail.Namespaces), "unshare", "mount/uts/ipc/net namespaces");
        LdconfigJail.PrivateRoot(sys, rootPath);
        using var root = ContainerRoot.Open(sys, rootPath);
        log.Debug($"executing {ldconfig} at {rootPath} (the container's own)");
        Console.Error.Flush();
        LdconfigJail.EnterRoot(sys, root, noPivot);
        LdconfigJail.MaskKernelTrees(sys);
        SyscallResult.Check(sys.DropCapabilities(0, lastCap), "drop capabilities", "ldconfig");
        LimitResources(sys);
        var r = sys.ExecveAt(At.FdCwd, ldconfig, argv, [LdconfigChildLauncher.FixedPath], 0);
        if (r == -Errno.ENOENT)
        {
            sys.Write(2, System.Text.Encoding.UTF8.GetBytes($"{ldconfig} not found in the container; skipping\n"));
            sys.Exit(0);
        }
        throw new SyscallException("execve", ldconfig, -r);
    }

    // The original's limits: ldconfig needs seconds of CPU, a few files and a cache far below these. Its address
    // space limit (2 GiB) is left out: a JIT-compiled .NET build (tests) dies on it before it reaches execve.
    static void LimitResources(ISyscalls sys)
    {
        foreach (var (resource, value) in LdconfigJail.ResourceLimits)
            SyscallResult.Check(sys.SetResourceLimit(resource, value), "setrlimit", $"resource {resource}");
    }
}

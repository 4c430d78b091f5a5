using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;

namespace Gantry.Hooks;

/// <summary>Everything a hook gets from outside: the log, the OS seam, stdin, and the host paths it may read.</summary>
internal sealed record HookContext(Log Log, ISyscalls Sys, Func<Stream> Stdin, string HostProcRoot, string SelfExe)
{
    /// <summary>GANTRY_PROC_ROOT points the hooks at a simulated host /proc (tests, simulated hosts).</summary>
    public const string ProcRootVariable = "GANTRY_PROC_ROOT";

    /// <summary>Set by the runtime shim on the hooks of a user-namespaced container (Runtime/ContainerRootHandover):
    /// the container root, so that the hook need not read config.json, which the container's root may not read.</summary>
    public const string ContainerRootVariable = "GANTRY_CONTAINER_ROOT";

    public static HookContext FromEnvironment(Log log) => new(
        log,
        LinuxSyscalls.Instance,
        Console.OpenStandardInput,
        Environment.GetEnvironmentVariable(ProcRootVariable) is { Length: > 0 } p ? p : "/proc",
        "/proc/self/exe")
    {
        GivenRoot = Environment.GetEnvironmentVariable(ContainerRootVariable),
    };

    /// <summary>The container root the shim handed over (ContainerRootVariable); used for the state read from stdin
    /// when the state itself names no root.</summary>
    public string? GivenRoot { get; init; }

    /// <summary>
    /// Set by a chain of hooks: the root each --container-spec resolved to, so that the hooks of one chain read
    /// the state and config.json once between them.
    /// </summary>
    public Dictionary<string, string>? ResolvedRoots { get; init; }

    /// <summary>
    /// Set when the runtime shim runs the hook itself (Runtime/ServedHook): the shim's stdout and stderr are the
    /// container's, so what the hook starts (ldconfig) must not write there; its output is kept for the log.
    /// </summary>
    public bool KeepChildOutput { get; init; }

    /// <summary>What the ldconfig runners need of this context.</summary>
    public LdconfigContext Ldconfig => new(Log, Sys, SelfExe, KeepChildOutput);

    /// <summary>Loads the container state (--container-spec or stdin) and opens its root, confined.</summary>
    public ContainerRoot OpenContainerRoot(FlagSet flags, bool refuseHostRoot = false)
    {
        var spec = flags.Get("container-spec") is { Length: > 0 } f && f != "-" ? f : "-";
        string? root = null;
        if (ResolvedRoots is null || !ResolvedRoots.TryGetValue(spec, out root))
        {
            var state = ContainerState.Load(spec, Stdin);
            root = spec == "-" && string.IsNullOrEmpty(state.Root) && GivenRoot is { Length: > 0 } given && Path.IsPathRooted(given)
                ? Path.GetFullPath(given) : state.ResolveRoot();
            ResolvedRoots?.Add(spec, root);
        }
        if (refuseHostRoot && root == "/") throw new GantryException("the container root is the host root \"/\"; refusing to modify it");
        Log.Debug($"container root: {root}");
        try
        {
            return ContainerRoot.Open(Sys, root);
        }
        catch (SyscallException e)
        {
            throw new GantryException($"failed to open container root {root}: {e.Message}", e);
        }
    }
}

/// <summary>One CDI hook: its flags and its work. Errors are thrown (GantryException/UsageException).</summary>
internal interface ICdiHook
{
    string Name { get; }
    string Summary { get; }
    bool Hidden => false;
    /// <summary>
    /// True for a hook that mounts in the container's mount namespace. When the runtime shim serves the hook
    /// (Runtime/ServedHook), such hooks run in that namespace itself; the others run in a private copy of it, where
    /// a mount would vanish with the copy.
    /// </summary>
    bool MountsInContainer => false;
    FlagSet DefineFlags();
    void Run(FlagSet flags, HookContext context);
}

internal static class HookFlags
{
    /// <summary>The flag every hook that reads the container state accepts.</summary>
    public static FlagSet WithContainerSpec(this FlagSet flags) =>
        flags.String("container-spec", "specify the path to the OCI container spec or state; \"\" or \"-\" reads STDIN");
}

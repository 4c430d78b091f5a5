using System.Text.Json;
using Gantry.Cli;
using Gantry.Hooks;
using Gantry.Host;

namespace Gantry.Live;

// `gantry __configure-apply`, started by LiveApplyLauncher with a fixed environment. Namespaces are per thread
// and setns(CLONE_NEWNS) refuses a thread that shares its fs_struct, so the main thread first unshares CLONE_FS,
// then joins the container's mount namespace; every mount happens on this thread. A host ldconfig ('@PATH') runs
// from a confined thread this thread makes, which starts in the same namespace (LdconfigThreadRunner; the host
// ldconfig and gantry-sandbox-exec are opened before the setns, since their host paths need not name them in the
// container's namespace); otherwise, and where that thread cannot unshare, a re-executed child
// (LdconfigChildLauncher) inherits the namespace. The exchange with the parent (stdout/stdin lines):
//   child: "applied"     every mount is in place (or the child exits 1 with "!error: …" on stderr, rolled back)
//   parent: "continue"   the device cgroup is set: run ldconfig, keep everything, exit 0
//   parent: anything else, or EOF: undo every mount and exit 1
internal static class LiveApplyChild
{
    public const string VerbName = "__configure-apply";
    public const string ErrorPrefix = "!error: ";

    public static int Run()
    {
        var stdin = new StreamReader(Console.OpenStandardInput());
        LiveApplyRequest? request;
        if (stdin.ReadLine() is not { } line) return Fail("container error: no request from the parent");
        try { request = LiveApplyRequestJson.Read(line); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return Fail($"container error: malformed request from the parent: {e.Message}");
        }

        var log = new Log(Console.Error, request.Debug ? LogLevel.Debug : LogLevel.Warning);
        var sys = LinuxSyscalls.Instance;
        var target = new ContainerTarget(request.Pid, request.Standalone, request.Rootfs, request.StartTime);
        ContainerRoot root;
        (uint, uint) owner;
        LdconfigHostFiles? hostLdconfig;
        try { hostLdconfig = OpenHostLdconfig(sys, request.Plan.Ldconfig, log); }
        catch (Exception e) when (e is IOException or GantryException) { return Fail($"ldcache error: {e.Message}"); }
        using var _ = hostLdconfig;
        try
        {
            root = ContainerProcess.OpenRootfs(sys, target);
            owner = ContainerProcess.Owner(sys, target, root);
            using var ns = ContainerProcess.OpenMountNamespace(sys, target, root);
            SyscallResult.Check(sys.Unshare(CloneFlags.Fs), "unshare", "CLONE_FS");
            SyscallResult.Check(sys.SetNs(ns.Value, CloneFlags.NewNs), "setns", $"mount namespace of process {request.Pid}");
        }
        catch (IOException e) { return Fail($"container error: {e.Message}"); }

        using (root)
        using (var applier = new LiveApplier(root, log, owner))
        {
            try { applier.Apply(request.Plan); }
            catch (Exception e) // whatever went wrong, nothing stays half mounted
            {
                applier.Rollback();
                return Fail($"mount error: {e.Message}");
            }
            Console.Out.WriteLine("applied");
            Console.Out.Flush();
            if (stdin.ReadLine() != "continue")
            {
                applier.Rollback();
                return 1;
            }
            try { RunLdconfig(root, request.Plan.Ldconfig, hostLdconfig, log); }
            catch (Exception e)
            {
                applier.Rollback();
                return Fail($"ldcache error: {e.Message}");
            }
            applier.Commit();
            return 0;
        }
    }

    // The thread path needs the helper beside this executable, pivot_root (--no-pivot takes the child) and a
    // kernel that clones mounts; the reason it is not taken goes to the debug log.
    static LdconfigHostFiles? OpenHostLdconfig(ISyscalls sys, LiveLdconfig? ld, Log log)
    {
        if (ld is not { FromHost: true }) return null;
        if (ld.NoPivot) { log.Debug("--no-pivot: ldconfig is chrooted by the re-executed child"); return null; }
        if (LdconfigThreadRunner.FindHelper() is not { } helper)
        {
            log.Debug($"{LdconfigThreadRunner.HelperName} is not beside {Environment.ProcessPath}");
            return null;
        }
        var files = LdconfigHostFiles.TryOpen(sys, ld.Path, helper, out var whyNot);
        if (files is null) log.Debug(whyNot!);
        return files;
    }

    static void RunLdconfig(ContainerRoot root, LiveLdconfig? ld, LdconfigHostFiles? hostLdconfig, Log log)
    {
        if (ld is null) return;
        // The rootfs as this namespace's root names it: where the jail is built.
        SyscallResult.Check(root.Sys.ReadLinkAt(At.FdCwd, root.Fd.ProcPath, out var rootPath), "readlink", root.HostPath);
        var context = new HookContext(log, root.Sys, Console.OpenStandardInput, "/proc", "/proc/self/exe");
        var scratch = "ldconfig-" + RandomName.Uuid();
        log.Info($"executing {ld.Path}{(ld.FromHost ? " from host" : "")} at {rootPath}");
        try
        {
            if (hostLdconfig is not null && new LdconfigThreadRunner(context).TryRun(rootPath, hostLdconfig, scratch, ld.Folders)) return;
            if (hostLdconfig is not null) log.Debug("this kernel does not unshare namespaces per thread");
            log.Debug($"running {ld.Path} from a re-executed child");
            new LdconfigChildLauncher(context).Run(rootPath, ld.Path, scratch, ld.Folders, containerBinary: !ld.FromHost, ld.NoPivot);
        }
        finally
        {
            if (ld.FromHost) UpdateLdcacheHook.RemoveScratchDirectory(root, scratch);
        }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine(ErrorPrefix + message);
        return 1;
    }
}

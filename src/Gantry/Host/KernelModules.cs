using System.ComponentModel;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Host;

// Loads nvidia, nvidia-uvm and nvidia-modeset with the driver root's own modprobe: "chroot ROOT /sbin/modprobe M"
// when the driver lives under a root other than "/", so the modules of that driver (not the host's) are used.
internal sealed class KernelModules(string driverRoot, bool dryRun, Log log)
{
    public static readonly string[] Names = ["nvidia", "nvidia-uvm", "nvidia-modeset"];

    /// <summary>Loads every module; the first failure ends with what ran and its output.</summary>
    public void LoadAll()
    {
        foreach (var m in Names) Load(m);
    }

    public void Load(string module)
    {
        var (program, args) = Command(module);
        var line = string.Join(' ', new[] { program }.Concat(args));
        if (dryRun) { log.Info($"Running: {line}"); return; }
        log.Debug($"Running: {line}");
        if (driverRoot == "/" && !File.Exists("/sbin/modprobe"))
            throw new GantryException($"cannot load kernel module {module}: /sbin/modprobe does not exist on this host (install kmod)");
        if (driverRoot != "/" && !File.Exists(HostRoots.Join(driverRoot, "/sbin/modprobe")))
            throw new GantryException($"cannot load kernel module {module}: {HostRoots.Join(driverRoot, "/sbin/modprobe")} does not exist, " +
                                      "and modprobe runs inside the driver root");
        ProcessResult r;
        try { r = ProcessRunner.Run(program, args, timeout: TimeSpan.FromMinutes(1)); }
        catch (Win32Exception e) { throw new GantryException($"cannot load kernel module {module}: running '{line}' failed: {e.Message}", e); }
        if (r.ExitCode != 0)
            throw new GantryException($"failed to load kernel module {module}: '{line}' exited with {r.ExitCode}: {r.Combined.Trim()}");
    }

    (string Program, string[] Args) Command(string module) =>
        driverRoot == "/" ? ("/sbin/modprobe", [module]) : ("chroot", [driverRoot, "/sbin/modprobe", module]);
}

internal static class KernelModuleLoader
{
    /// <summary>nvidia-container-cli --load-kmods: failures are only logged, as the original does.</summary>
    public static void ForContainerCli(HostRoots roots, Log log)
    {
        var modules = new KernelModules(roots.DriverRoot, dryRun: false, log);
        foreach (var m in KernelModules.Names)
        {
            log.Info($"loading kernel module {m.Replace('-', '_')}");
            try { modules.Load(m); }
            catch (GantryException e) { log.Error($"could not load kernel module {m.Replace('-', '_')}: {e.Message}"); }
        }
    }
}

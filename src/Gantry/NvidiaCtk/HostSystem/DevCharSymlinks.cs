using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.NvidiaCtk.HostSystem;

// `nvidia-ctk system create-dev-char-symlinks`: /dev/char/MAJOR:MINOR -> the NVIDIA device node, which systemd's
// device cgroup handling needs. By default it links the nodes that exist; --create-all links every node the
// driver could have (GPUs from PCI, control nodes, MIG caps), optionally loading modules and creating the nodes.
internal static class DevCharSymlinks
{
    internal static FlagSet Flags() => new FlagSet()
        .String("dev-char-path", "the path where the symlinks are created", "/dev/char", null, ["DEV_CHAR_PATH"])
        .String("driver-root", "the root of the driver installation; modprobe runs chrooted into it", "/", null, ["NVIDIA_DRIVER_ROOT", "DRIVER_ROOT"])
        .String("dev-root", "the root under which /dev is searched (gantry; default: the driver root)", null, null, ["NVIDIA_DEV_ROOT", "DEV_ROOT"])
        .Bool("create-all", "create all possible /dev/char symlinks, not only those of existing nodes", null, ["CREATE_ALL"])
        .Bool("load-kernel-modules", "load the NVIDIA kernel modules first (with --create-all)", null, ["LOAD_KERNEL_MODULES"])
        .Bool("create-device-nodes", "create the device nodes first (with --create-all)", null, ["CREATE_DEVICE_NODES"])
        .Bool("dry-run", "print what would be done, change nothing", null, ["DRY_RUN"])
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log)
    {
        var f = Flags();
        f.Parse(args);
        if (f.GetBool("help")) { Console.WriteLine("USAGE: nvidia-ctk system create-dev-char-symlinks [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");
        var createAll = f.GetBool("create-all");
        var loadModules = f.GetBool("load-kernel-modules");
        var createNodes = f.GetBool("create-device-nodes");
        if (!createAll && loadModules) { log.Warning("load-kernel-modules is only applicable when create-all is set; ignoring"); loadModules = false; }
        if (!createAll && createNodes) { log.Warning("create-device-nodes is only applicable when create-all is set; ignoring"); createNodes = false; }

        var roots = new HostRoots(f.GetOr("driver-root", "/"), f.Get("dev-root"));
        var dryRun = f.GetBool("dry-run");
        var linkDir = f.GetOr("dev-char-path", "/dev/char");
        if (loadModules) new KernelModules(roots.DriverRoot, dryRun, log).LoadAll();

        List<CharDevice> nodes;
        if (createAll)
        {
            nodes = PossibleNodes.All(roots);
            if (createNodes) foreach (var n in nodes) new DeviceNodeCreator(dryRun, log).Create(n);
        }
        else nodes = NvidiaCharDevices.Existing(roots);

        if (!dryRun) Directory.CreateDirectory(linkDir);
        foreach (var n in nodes)
        {
            var link = Path.Combine(linkDir, $"{n.Major}:{n.Minor}");
            log.Info($"Creating link {link} => {n.Path}");
            if (dryRun) continue;
            try { File.CreateSymbolicLink(link, n.Path); }
            catch (IOException e) { log.Warning($"Could not create symlink {link} => {n.Path}: {e.Message}"); }
            catch (UnauthorizedAccessException e) { log.Warning($"Could not create symlink {link} => {n.Path}: {e.Message}"); }
        }
        return 0;
    }
}

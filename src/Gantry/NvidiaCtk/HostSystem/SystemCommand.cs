using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.NvidiaCtk.HostSystem;

// `nvidia-ctk system create-device-nodes | create-dev-char-symlinks`: host setup the driver's udev rules would do.
internal static class SystemCommand
{
    internal static FlagSet Flags() => new FlagSet()
        .String("root", "the root of the driver installation; modprobe runs chrooted into it", "/", ["driver-root"], ["ROOT", "NVIDIA_DRIVER_ROOT", "DRIVER_ROOT"])
        .String("dev-root", "the root under which /dev is (default: the driver root)", null, null, ["NVIDIA_DEV_ROOT", "DEV_ROOT"])
        .Bool("control-devices", "create the control device nodes: nvidiactl, nvidia-modeset, nvidia-uvm, nvidia-uvm-tools")
        .Bool("load-kernel-modules", "load the NVIDIA kernel modules first")
        .Bool("dry-run", "print what would be done, change nothing", null, ["DRY_RUN"])
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help") { Console.WriteLine(Help); return 0; }
        var rest = args.Skip(1).ToArray();
        return args[0] switch
        {
            "create-device-nodes" => CreateDeviceNodes(rest, log),
            "create-dev-char-symlinks" => DevCharSymlinks.Run(rest, log),
            _ => throw new UsageException($"unknown command 'system {args[0]}'; see 'nvidia-ctk system --help'"),
        };
    }

    static int CreateDeviceNodes(string[] args, Log log)
    {
        var f = Flags();
        f.Parse(args);
        if (f.GetBool("help")) { Console.WriteLine("USAGE: nvidia-ctk system create-device-nodes [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");
        var root = f.GetOr("root", "/");
        var roots = new HostRoots(root, f.Get("dev-root"));
        var dryRun = f.GetBool("dry-run");

        if (f.GetBool("load-kernel-modules"))
        {
            try { new KernelModules(roots.DriverRoot, dryRun, log).LoadAll(); }
            catch (GantryException e) { throw new GantryException($"failed to load NVIDIA kernel modules: {e.Message}", e); }
        }
        if (f.GetBool("control-devices"))
        {
            var procDevices = roots.InProc("devices");
            if (!ProcDevices.TryRead(roots, out var majors))
                throw new GantryException($"failed to create NVIDIA control device nodes: cannot read {procDevices}");
            log.Info("Creating control device nodes");
            var creator = new DeviceNodeCreator(dryRun, log);
            try
            {
                foreach (var node in ControlDevices.For(roots.DevRoot, majors, procDevices)) creator.Create(node);
            }
            catch (GantryException e) { throw new GantryException($"failed to create NVIDIA control device nodes: {e.Message}", e); }
        }
        return 0;
    }

    const string Help = """
        NAME: nvidia-ctk system - A collection of system-level utilities for working with the NVIDIA Container Toolkit

        USAGE: nvidia-ctk system command [command options]

        COMMANDS:
           create-dev-char-symlinks  A utility to create symlinks to possible /dev/nv* devices in /dev/char
           create-device-nodes       A utility to create NVIDIA device nodes
        """;
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Host.Cgroups;
using Gantry.LdconfigSandbox;
using Gantry.Live;
using Gantry.Requests;

namespace Gantry.ContainerCli;

// nvidia-container-cli configure: exposes the driver to an already created container, in the original's order:
// driver and devices → device selection, MIG caps, IMEX → requirements → the container (pid, rootfs, layout) →
// plan → mounts in the container's mount namespace (from a thread that joins it) → device cgroup → ldconfig. Any
// failure after the first mount undoes the mounts (LiveApplyThread); nothing is half done.
internal static class ConfigureSubcommand
{
    const string Name = ContainerCliCommand.Program + " configure";
    const string Doc = "Configure a container with GPU support by exposing device drivers to it. This command enters the " +
                       "mount namespace of the container process given by PID (or of the parent process) and makes the " +
                       "requested capabilities available inside its root filesystem, which must not have been pivoted into yet.";

    public static int Run(string[] args, CliGlobals globals)
    {
        var p = Argp.Parse(Name, args, ConfigureRequest.Options, inOrder: false);
        if (p.Has("help")) { Console.Write(Argp.HelpText(Name, "ROOTFS", Doc, ConfigureRequest.Options)); return 0; }
        if (p.Has("usage")) { Console.WriteLine(Argp.UsageText(Name, "ROOTFS", ConfigureRequest.Options)); return 0; }
        if (p.Has("version")) { Console.Write(ContainerCliVersion.Text); return 0; }
        if (p.Operands.Count != 1)
        {
            // argp_usage: the short usage line and the hint, exit 1.
            Console.Error.WriteLine($"Usage: {Name} [OPTION...] ROOTFS");
            Console.Error.WriteLine(Argp.TryHint(Name));
            return 1;
        }

        var req = ConfigureRequest.From(p);
        var imex = ListSubcommand.ImexChannels(req.ImexChannels);
        if (Interop.GetEuid() != 0) throw new ContainerCliException("permission error: capability change failed: operation not permitted");
        var log = globals.Log;
        log.Info($"configuring container with '{OptionString(req)}'");

        var d = DriverQuery.Load(globals);
        var sel = DeviceSelection.Parse(req.Devices, d.Gpus);
        var migConfig = MigCaps.Select("mig-config", req.MigConfig, sel);
        var migMonitor = MigCaps.Select("mig-monitor", req.MigMonitor, sel);
        CheckRequirements(req, d, sel);

        var sys = LinuxSyscalls.Instance;
        ContainerTarget target;
        ContainerLayout layout;
        try
        {
            target = ContainerProcess.Locate(sys, req.Pid, req.Rootfs);
            log.Info($"setting pid to {target.Pid}");
            log.Info($"setting rootfs to {req.Rootfs}");
            using var root = ContainerProcess.OpenRootfs(sys, target);
            var wantCompat = req.CompatMode != CudaCompatMode.Disabled && (req.Capabilities & (DriverCapability.Compute | DriverCapability.Video)) != 0;
            layout = ContainerLayout.Probe(root, wantCompat, RuntimeInformation.ProcessArchitecture, log);
        }
        catch (IOException e) { throw new ContainerCliException($"container error: {e.Message}"); }

        var inputs = ConfigureInputsReader.Read(d, req, sel, migConfig, migMonitor, imex, layout, log);
        var plan = ConfigurePlanner.Plan(inputs);
        plan.Ldconfig = HostLdconfig(plan.Ldconfig, log);
        if (plan.Ldconfig is not null) plan.Ldconfig.NoPivot = globals.NoPivot;
        foreach (var line in plan.Describe().Split('\n', StringSplitOptions.RemoveEmptyEntries)) log.Debug($"plan: {line}");
        FaultPoint.Hit("configure-planned");

        try
        {
            new LiveApplyThread(log).Apply(target, plan, () => AllowDevices(target, plan.CgroupRules, log));
        }
        catch (LiveApplyException e) { throw new ContainerCliException(e.Message); }
        return 0;
    }

    // Every --require must hold for each selected GPU (a MIG device is checked with its parent), or once without
    // device facts when nothing is selected.
    static void CheckRequirements(ConfigureRequest req, CliDriver d, DeviceSelection sel)
    {
        var host = new HostFacts(d.CudaVersion, d.NvrmVersion);
        var devices = sel.Gpus.Select(g => new DeviceFacts(g.ComputeCapability, DriverQuery.BrandName(g.Brand)))
            .Concat(sel.Migs.Select(m => new DeviceFacts(m.Parent.ComputeCapability, DriverQuery.BrandName(m.Parent.Brand)))).ToList();
        try { RequirementCheck.Check(req.Requirements, host, devices); }
        catch (RequirementException e) { throw new ContainerCliException(e.Message); }
    }

    // A host ldconfig ('@PATH') is checked here, before any namespace is entered: the ".real" binary is preferred,
    // a missing one fails the start as the original's open of it does (a container whose libraries cannot be
    // found is worse than one that does not start), and only a static one may run inside the rootfs.
    static LiveLdconfig? HostLdconfig(LiveLdconfig? ld, Log log)
    {
        if (ld is not { FromHost: true }) return ld;
        var resolved = LdconfigBinary.Resolve(ld.Path);
        if (resolved is null)
        {
            throw new ContainerCliException($"ldcache error: open failed: {ld.Path}: no such file or directory " +
                                            "(name the host's ldconfig, e.g. nvidia-container-cli.ldconfig = \"@/sbin/ldconfig\" in config.toml)");
        }
        if (!LdconfigBinary.IsStaticElf(resolved, out var why))
            throw new ContainerCliException($"ldcache error: refusing to run {resolved} inside the container: {why}; " +
                                            "only a statically linked host ldconfig is safe to run against an untrusted root");
        ld.Path = resolved;
        return ld;
    }

    static void AllowDevices(ContainerTarget target, IReadOnlyList<DeviceRule> rules, Log log)
    {
        if (rules.Count == 0) return;
        foreach (var r in rules) log.Info($"whitelisting device node {r.Major}:{r.Minor}");
        try
        {
            // Standalone, the process and its mount table are seen through the container's own /proc.
            if (target.Standalone)
            {
                var proc = target.Rootfs.TrimEnd('/') + "/proc";
                DeviceCgroup.Allow(target.Pid, rules, proc, mountInfoPath: $"{proc}/{target.Pid}/mountinfo");
            }
            else DeviceCgroup.Allow(target.Pid, rules);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            // A rootless engine: the hook and this CLI run as the root of a user namespace, which may not write the
            // container's device cgroup. Say which key turns the step off instead of the bare errno.
            var hint = UserNamespace.IsInitial() ? "" :
                "; nvidia-container-cli runs in a user namespace (a rootless engine) and cannot program the device cgroup: " +
                "set no-cgroups = true in the [nvidia-container-cli] table of config.toml (device access is then left to the engine)";
            throw new ContainerCliException($"mount error: failed to add device rules: {e.Message}{hint}");
        }
    }

    /// <summary>The original's container option string, for the log.</summary>
    static string OptionString(ConfigureRequest r)
    {
        var words = new List<string>();
        foreach (var c in new[] { DriverCapability.Compute, DriverCapability.Compat32, DriverCapability.Graphics, DriverCapability.Utility,
                     DriverCapability.Video, DriverCapability.Display, DriverCapability.Ngx })
            if ((r.Capabilities & c) != 0) words.Add(DriverCapabilities.Name(c));
        if (r.NoCgroups) words.Add("no-cgroups");
        if (r.NoDevbind) words.Add("no-devbind");
        words.Add($"cuda-compat-mode={r.CompatMode.ToString().ToLowerInvariant()}");
        words.Add(r.Pid is null ? "standalone" : "supervised");
        return string.Join(' ', words);
    }
}

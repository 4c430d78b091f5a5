using Gantry.Common;
using Gantry.Simulation;

namespace Gantry.NvidiaCtk;

// `gantry simulate DIR`: a host with GPUs, for trying and testing Gantry anywhere.
internal static class SimulateCommand
{
    internal static FlagSet Flags() => new FlagSet()
        .String("gpus", "number of GPUs (1..16)", "2")
        .String("driver", "driver version", "550.54.15")
        .String("cuda", "CUDA driver API version, e.g. 12.4 (default: the driver branch's)")
        .String("model", "GPU model name", "NVIDIA A100-SXM4-40GB")
        .List("mig", "GPU:COUNT — make GPU a MIG GPU with COUNT MIG devices; repeatable")
        .List("addressing-mode", "GPU:MODE — what NVML reports as the GPU's addressing mode: ats (coherent, as on Grace Hopper), hmm or none; repeatable (default: not reported)")
        .List("without", "leave a part out: nvml, firmware, graphics, ipc; repeatable")
        .Bool("compat32", "also install 32-bit libraries")
        .String("imex-channels", "number of IMEX channel device nodes", "0")
        .Bool("wsl", "a WSL2 guest: /dev/dxg and the driver under /usr/lib/wsl (lib, drivers/<package>), no /dev/nvidia*")
        .List("with", "add the device nodes of a gated family: gds, mofed, gdrcopy, nvswitch; repeatable")
        .String("driver-root-prefix", "install the driver under DIR/PREFIX (e.g. run/nvidia/driver), devices stay in DIR/dev")
        .String("device-nodes", "auto (character devices when root), char, or plain files", "auto")
        .String("nvml-standin", "path of the NVML stand-in library (default: beside gantry)")
        .String("persistence", "persistence mode of the GPUs: on, or off (then every NVML start takes --nvml-init-delay)", "on")
        .String("nvml-init-delay", "milliseconds an NVML start takes while persistence is off (a real host: 1000-3000)", "0")
        .List("event", "inject an NVML health event into the simulated host at DIR instead of writing one: 'xid GPU CODE [GI CI]', 'ecc GPU double', 'lost GPU', 'back GPU'; repeatable", splitComma: false)
        .Bool("update", "change the existing simulated host DIR in place: the flags given change, the rest stay as they were " +
                        "(a driver upgrade removes the old version's files; --mig none turns MIG off)")
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log)
    {
        var f = Flags();
        f.Parse(args);
        if (f.GetList("event") is { Count: > 0 } events && f.Positionals.Count == 1)
        {
            foreach (var e in events) SimulatedEvents.Inject(f.Positionals[0], e);
            return 0;
        }
        if (f.GetBool("help") || f.Positionals.Count != 1)
        {
            Console.WriteLine("USAGE: gantry simulate DIR [options]\n\nOPTIONS:\n" + f.Usage());
            return f.GetBool("help") ? 0 : 1;
        }
        var update = f.GetBool("update");
        if (update) f = Merged(SimulatedHostWriter.SavedFlags(f.Positionals[0]), args);
        var host = update
            ? SimulatedHostWriter.Update(f.Positionals[0], SimulationOptions.FromFlags(f), Canonical(f), log)
            : SimulatedHostWriter.Write(f.Positionals[0], SimulationOptions.FromFlags(f), log, Canonical(f));
        if (update)
        {
            Console.WriteLine($"Simulated GPU host {host.Directory} changed in place: driver {host.Facts.DriverVersion}, {host.Facts.Gpus.Count} GPU(s){MigSummary(host)}, " +
                              $"persistence {(SimulationOptions.FromFlags(f).Persistence ? "on" : "off")}");
            return 0;
        }
        PrintNext(host);
        return 0;
    }

    // The host's saved flags, less those the new command line sets, then the new command line.
    static FlagSet Merged(IReadOnlyList<string> saved, string[] args)
    {
        var given = Flags().Parse(args);
        var kept = saved.Where(a => a.StartsWith("--", StringComparison.Ordinal) && !given.IsSet(a[2..].Split('=')[0]));
        return Flags().Parse([.. kept, .. args.Where(a => a != "--update" && a != "-update")]);
    }

    // Every flag set, as --name=value, to be saved with the host for a later --update.
    static List<string> Canonical(FlagSet f) =>
        f.Definitions.Where(d => d.Name is not ("help" or "update" or "event") && f.IsSet(d.Name))
            .SelectMany(d => d.Kind == FlagKind.List ? f.GetList(d.Name).Select(v => $"--{d.Name}={v}") : [$"--{d.Name}={f.Get(d.Name)}"])
            .ToList();

    static void PrintNext(SimulatedHost host)
    {
        var devRootFlag = host.DriverRoot == host.DevRoot ? "" : $" --dev-root={host.DevRoot}";
        Console.WriteLine($"""
            Simulated GPU host written to {host.Directory}
              driver {host.Facts.DriverVersion}, CUDA {host.Facts.CudaVersionText}, {host.Facts.Gpus.Count} GPU(s){MigSummary(host)}
              driver root:  {host.DriverRoot}
              device nodes: {(host.RealDeviceNodes ? "character devices (real majors/minors)" : "plain files (not root: specs will carry paths only)")}
              NVML:         {(host.NvmlStandIn ? "stand-in library answering from the simulated facts" : "absent (discovery falls back to /proc/driver/nvidia)")}

            Next:
              gantry info --driver-root={host.DriverRoot}{devRootFlag}
              nvidia-ctk cdi generate --driver-root={host.DriverRoot}{devRootFlag} --output={Path.Combine(host.Directory, "cdi", "nvidia.yaml")}
              nvidia-ctk cdi list --spec-dir={Path.Combine(host.Directory, "cdi")}
            (The spec describes simulated devices: keep it out of /etc/cdi and /var/run/cdi, where every
            engine on this machine would offer them.)
            """);
    }

    static string MigSummary(SimulatedHost h)
    {
        var migs = h.Facts.Gpus.Where(g => g.MigEnabled).Select(g => $"GPU {g.Index}: {g.MigDevices.Count} MIG").ToList();
        return migs.Count == 0 ? "" : " (" + string.Join(", ", migs) + ")";
    }
}

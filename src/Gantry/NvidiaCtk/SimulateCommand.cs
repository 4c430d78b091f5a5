using Gantry.Common;
using Gantry.Simulation;

namespace Gantry.NvidiaCtk;

// `gantry simulate DIR`: a host with GPUs, for trying and testing Gantry anywhere.
internal static class SimulateCommand
{
    public static int Run(string[] args, Log log)
    {
        var f = new FlagSet()
            .String("gpus", "number of GPUs (1..16)", "2")
            .String("driver", "driver version", "550.54.15")
            .String("cuda", "CUDA driver API version, e.g. 12.4 (default: the driver branch's)")
            .String("model", "GPU model name", "NVIDIA A100-SXM4-40GB")
            .List("mig", "GPU:COUNT — make GPU a MIG GPU with COUNT MIG devices; repeatable")
            .List("without", "leave a part out: nvml, firmware, graphics, ipc; repeatable")
            .Bool("compat32", "also install 32-bit libraries")
            .String("imex-channels", "number of IMEX channel device nodes", "0")
            .String("driver-root-prefix", "install the driver under DIR/PREFIX (e.g. run/nvidia/driver), devices stay in DIR/dev")
            .String("device-nodes", "auto (character devices when root), char, or plain files", "auto")
            .String("nvml-standin", "path of the NVML stand-in library (default: beside gantry)")
            .List("event", "inject an NVML health event into the simulated host at DIR instead of writing one: 'xid GPU CODE [GI CI]', 'ecc GPU double', 'lost GPU', 'back GPU'; repeatable", splitComma: false)
            .Bool("help", "show help", ["h"]);
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
        var host = SimulatedHostWriter.Write(f.Positionals[0], SimulationOptions.FromFlags(f), log);
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
        return 0;
    }

    static string MigSummary(SimulatedHost h)
    {
        var migs = h.Facts.Gpus.Where(g => g.MigEnabled).Select(g => $"GPU {g.Index}: {g.MigDevices.Count} MIG").ToList();
        return migs.Count == 0 ? "" : " (" + string.Join(", ", migs) + ")";
    }
}

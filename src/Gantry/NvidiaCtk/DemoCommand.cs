using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Simulation;

namespace Gantry.NvidiaCtk;

// `gantry demo`: simulate a GPU host, generate its CDI spec, and run a real Podman container with GPU 0.
internal static class DemoCommand
{
    internal static FlagSet Flags() => new FlagSet().String("gpus", "number of simulated GPUs", "2").Bool("keep", "keep the temporary directory").Bool("help", "show help", ["h"]);

    const string SpecPath = "/var/run/cdi/gantry-demo.yaml";

    public static int Run(string[] args, Log log)
    {
        var f = Flags();
        f.Parse(args);
        if (f.GetBool("help")) { Console.WriteLine("USAGE: gantry demo [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        var work = Directory.CreateTempSubdirectory("gantry-demo-").FullName;
        try
        {
            Step("1. Simulate a GPU host");
            var gpus = int.TryParse(f.Get("gpus"), out var n) && n is >= 1 and <= 16 ? n : throw new UsageException("--gpus must be between 1 and 16");
            var host = SimulatedHostWriter.Write(Path.Combine(work, "host"), new SimulationOptions { GpuCount = gpus }, log);
            Console.WriteLine($"   {host.Facts.Gpus.Count} GPUs, driver {host.Facts.DriverVersion}, under {host.Directory}");

            Step("2. Discover it (gantry info)");
            var inv = DriverDiscovery.Discover(new HostRoots(host.DriverRoot), new DiscoveryOptions(), log);
            Console.Write(InfoReport.From(inv).ToText().Split('\n').Select(l => "   " + l).Aggregate((a, b) => a + "\n" + b));
            Console.WriteLine();

            Step("3. Generate its CDI spec (nvidia-ctk cdi generate)");
            var spec = SpecGenerator.Generate(inv, new HookFactory(HookFactory.ResolvePath(null), [], []), new GenerateOptions());
            var specFile = Path.Combine(work, "nvidia.yaml");
            SpecWriter.Write(spec, specFile, SpecFormat.Yaml);
            Console.WriteLine($"   {spec.Devices.Count} devices: {string.Join(", ", spec.Devices.Select(d => "nvidia.com/gpu=" + d.Name))}");
            Console.WriteLine($"   spec written to {specFile}");

            Step("4. Run a real container with nvidia.com/gpu=0 (podman)");
            var missing = Podman.Binary is null ? "podman is not installed (apt-get install podman runc)"
                : Environment.UserName != "root" ? "running containers with CDI devices here needs root"
                : BusyboxImage.Missing();
            if (missing is not null)
            {
                Console.WriteLine($"   skipped: {missing}.");
                Console.WriteLine($"   With it, this runs: cp {specFile} {SpecPath} && podman run --rm {string.Join(' ', Podman.RunFlags)} --device nvidia.com/gpu=0 IMAGE sh -c '...'");
                return 0;
            }
            File.Copy(specFile, SpecPath.EnsureParent(), overwrite: true);
            var podman = new Podman(Path.Combine(work, "podman"));
            var import = podman.Import(BusyboxImage.BuildTar(work), "localhost/gantry-demo-busybox");
            if (import.ExitCode != 0) throw new GantryException($"podman import failed: {import.Combined.Trim()}");
            const string script = "echo '$ ls /dev/nvidia*'; ls -1 /dev/nvidia*; echo; echo '$ nvidia-smi -L'; nvidia-smi -L; echo; " +
                                  "echo '$ ldconfig -p | grep libcuda'; ldconfig -p | grep libcuda; echo; echo '$ env | grep NVIDIA'; env | grep NVIDIA | sort";
            Console.WriteLine("   podman run --rm --device nvidia.com/gpu=0 gantry-demo-busybox sh -c '...'\n");
            var run = podman.Run("localhost/gantry-demo-busybox", ["nvidia.com/gpu=0"], script);
            Console.WriteLine(string.Join('\n', run.Stdout.TrimEnd().Split('\n').Select(l => "   " + l)));
            if (run.ExitCode != 0) throw new GantryException($"the container failed (exit {run.ExitCode}): {run.Stderr.Trim()}");
            Console.WriteLine("\n   The container sees GPU 0 only, the driver's libraries in its own ld cache, and the spec's environment.");
            return 0;
        }
        finally
        {
            if (File.Exists(SpecPath)) File.Delete(SpecPath);
            if (f.GetBool("keep")) Console.WriteLine($"\nKept {work}");
            else try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static void Step(string title) => Console.WriteLine($"\n== {title}");
}

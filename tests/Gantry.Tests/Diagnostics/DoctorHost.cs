using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Diagnostics;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Simulation;
using Gantry.Tests.Simulation;

namespace Gantry.Tests.Diagnostics;

/// <summary>
/// A healthy simulated host for doctor: a simulated GPU host (NVML stand-in, device nodes, procfs) and a host root
/// beside it with ldconfig, the runtime, the hook and dockerd on the service PATH, daemon.json with the runtime,
/// config.toml, a current CDI spec and the /dev/char links. A test breaks one thing and runs the checks.
/// </summary>
internal sealed class DoctorHost : IDisposable
{
    readonly TempDirectory _dir = new();
    public string Gpu => Path.Combine(_dir.Path, "gpu");
    public string Root => Path.Combine(_dir.Path, "root");
    public string DaemonJson => In("/etc/docker/daemon.json");
    public string ConfigToml => In("/etc/nvidia-container-runtime/config.toml");
    public string Spec => In("/etc/cdi/nvidia.yaml");
    public string DevChar => Path.Combine(Gpu, "dev/char");

    public DoctorHost(SimulationOptions? options = null)
    {
        SimulatedHostWriter.Write(Gpu, (options ?? new SimulationOptions()) with { NvmlStandIn = NvmlStandIn.LibraryPath }, Log.Silent);
        foreach (var exe in new[] { "/sbin/ldconfig", "/usr/bin/nvidia-container-runtime", "/usr/bin/nvidia-container-runtime-hook", "/usr/bin/nvidia-cdi-hook", "/usr/bin/dockerd" })
            Executable(exe);
        Write("/etc/docker/daemon.json", """{"runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}""");
        Write("/etc/nvidia-container-runtime/config.toml", "[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig\"\n");
        GenerateSpec(Spec);
        DoctorRepairs.Apply(Check().Where(f => f.Repair is LinkDevChar), Log.Silent);
    }

    public string In(string path) => HostRoots.Join(Root, path);

    public void Write(string path, string text) => File.WriteAllText(In(path).EnsureParent(), text);

    public void Executable(string path)
    {
        Write(path, "#!/bin/sh\n");
        File.SetUnixFileMode(In(path), (UnixFileMode)0b111_101_101);
    }

    public void GenerateSpec(string file)
    {
        var inv = DriverDiscovery.Discover(new HostRoots(Gpu), new DiscoveryOptions(), Log.Silent);
        SpecWriter.Write(SpecGenerator.Generate(inv, new HookFactory(In("/usr/bin/nvidia-cdi-hook"), [], []), new GenerateOptions()), file, SpecFormat.Yaml);
    }

    public DoctorSetup Setup(string? enginePath = null) => new()
    {
        Roots = new HostRoots(Gpu), HostRoot = Root, CdiHookPath = In("/usr/bin/nvidia-cdi-hook"), EnginePath = enginePath,
    };

    public List<Finding> Check(string? enginePath = null) => Doctor.Check(Setup(enginePath));

    /// <summary>The one finding of a check that is not ok (fails when there is none).</summary>
    public Finding Failing(string check, CheckStatus status = CheckStatus.Problem)
    {
        var findings = Check();
        var hit = findings.FirstOrDefault(f => f.Check == check && f.Status == status);
        Assert.True(hit is not null, $"no {status} from {check}; doctor said:\n" + string.Join("\n", findings.Select(f => $"{f.Status} {f.Check} {f.Summary}")));
        return hit!;
    }

    public void Dispose() => _dir.Dispose();
}

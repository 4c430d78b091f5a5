using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Common;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Requests;

namespace Gantry.NvidiaCtk;

// `gantry info`: what discovery sees — driver, CUDA, GPUs with their ids — as text or JSON.
internal static class InfoCommand
{
    internal static FlagSet Flags() => new FlagSet()
        .String("driver-root", "the root of the driver installation", "/", null, ["NVIDIA_CTK_DRIVER_ROOT"])
        .String("dev-root", "the root of the device nodes (default: the driver root)", null, null, ["NVIDIA_CTK_DEV_ROOT"])
        .String("swarm-resource-kind", "the generic-resource kind the Swarm resources are shown as", SwarmResource.DefaultKind)
        .Bool("json", "print JSON")
        .Bool("help", "show help", ["h"]);

    public static int Run(string[] args, Log log)
    {
        var f = Flags();
        f.Parse(args);
        if (f.GetBool("help")) { Console.WriteLine("USAGE: gantry info [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        var roots = new HostRoots(f.GetOr("driver-root", "/"), f.Get("dev-root"));
        var quiet = f.GetBool("json") ? Log.Silent : log;
        if (WslDriver.IsWsl(roots)) return RunWsl(roots, f, quiet);
        var inv = DriverDiscovery.Discover(roots, new DiscoveryOptions(), quiet);
        var report = InfoReport.From(inv);
        if (f.GetBool("json")) Console.WriteLine(JsonSerializer.Serialize(report, InfoJsonContext.Default.InfoReport));
        else
        {
            Console.Write(report.ToText());
            // As `nvidia-ctk runtime configure --runtime=docker --swarm-resources` advertises them in daemon.json.
            var kind = f.GetOr("swarm-resource-kind", SwarmResource.DefaultKind);
            var ids = SwarmDeviceCheck.NodeDevices(inv);
            Console.WriteLine($"Swarm resources: {(ids.Count == 0 ? "none" : $"{ids.Count} ({SwarmResource.Variable(kind)} in a task)")}");
            foreach (var id in ids) Console.WriteLine($"  {kind}={id}");
        }
        return 0;
    }

    // A WSL2 guest: the driver is the driver store, its NVML answers for every GPU, all of them behind /dev/dxg.
    static int RunWsl(HostRoots roots, FlagSet f, Log log)
    {
        var wsl = WslDriver.Find(roots, log) ?? throw new GantryException($"{roots.DriverRoot} looks like a WSL2 guest but has no driver store under {WslDriver.DriversDir}");
        if (!wsl.TryQueryNvml(out var nvml, out var error))
            throw new GantryException($"NVML of the WSL2 driver store {wsl.Store} could not be used: {error}");
        // /dev/dxg exists: it is what made this a WSL2 guest.
        var report = new InfoReport(nvml.DriverVersion, nvml.CudaVersionText, "nvml", roots.DriverRoot, roots.DevRoot,
            nvml.Gpus.Select(g => new InfoGpu(g.Index, g.Minor, true, g.Uuid, g.BusId, g.Name, g.Brand, g.ComputeCapability, g.MemoryBytes / (1024 * 1024), false, [])).ToList(), [])
        {
            WslDriverStore = wsl.Store,
        };
        if (f.GetBool("json")) Console.WriteLine(JsonSerializer.Serialize(report, InfoJsonContext.Default.InfoReport));
        else
        {
            Console.Write(report.ToText());
            // Every GPU of a WSL2 guest goes to a container together (the runtime takes only all or 0 there).
            Console.WriteLine("Swarm resources: none (a WSL2 guest offers its GPUs together, as all)");
        }
        return 0;
    }
}

internal sealed record InfoReport(string DriverVersion, string? CudaVersion, string GpuSource, string DriverRoot, string DevRoot, List<InfoGpu> Gpus, List<string> Warnings)
{
    /// <summary>On a WSL2 guest, the driver store whose files (NVML included) are the driver; null elsewhere.</summary>
    public string? WslDriverStore { get; init; }

    public static InfoReport From(DriverInventory inv)
    {
        var nodes = DeviceNodeLocator.ForHost(inv.Roots);
        return new(inv.Version, inv.CudaVersion, inv.GpuSource, inv.Roots.DriverRoot, inv.Roots.DevRoot,
        inv.Gpus.Select(g => new InfoGpu(g.Index, g.Minor, nodes.Find($"/dev/nvidia{g.Minor}") is not null, g.Uuid, g.BusId, g.Name, g.Brand, g.ComputeCapability, g.MemoryBytes / (1024 * 1024),
            g.MigEnabled, g.MigDevices.Select(m => new InfoMig($"{g.Index}:{m.Index}", m.Uuid, m.GpuInstanceId, m.ComputeInstanceId, m.Profile)).ToList())).ToList(),
        inv.Warnings.ToList());
    }

    public string ToText()
    {
        var w = new StringWriter();
        w.WriteLine($"Driver version:  {DriverVersion}");
        w.WriteLine($"CUDA version:    {CudaVersion ?? "unknown (needs NVML)"}");
        w.WriteLine($"Driver root:     {DriverRoot}");
        if (DevRoot != DriverRoot) w.WriteLine($"Device root:     {DevRoot}");
        if (WslDriverStore is not null) w.WriteLine($"WSL2 guest:      every GPU behind /dev/dxg; driver store {WslDriverStore}");
        w.WriteLine($"GPU facts from:  {(GpuSource == "nvml" ? "NVML" : "/proc/driver/nvidia (NVML unavailable)")}");
        w.WriteLine($"GPUs:            {Gpus.Count}");
        foreach (var g in Gpus)
        {
            w.WriteLine($"GPU {g.Index}: {g.Model ?? "unknown model"}");
            w.WriteLine($"  UUID:               {g.Uuid}");
            w.WriteLine($"  Bus ID:             {g.BusId}");
            if (WslDriverStore is not null) w.WriteLine($"  Device node:        /dev/dxg{(g.DeviceNodePresent ? "" : $" (missing under {DevRoot})")}");
            else w.WriteLine($"  Minor:              {g.Minor} (/dev/nvidia{g.Minor}{(g.DeviceNodePresent ? "" : $", no device node under {DevRoot}")})");
            w.WriteLine($"  Compute capability: {g.ComputeCapability ?? "unknown"}");
            w.WriteLine($"  Brand:              {g.Brand ?? "unknown"}");
            w.WriteLine($"  Memory:             {(g.MemoryMiB is { } m ? $"{m} MiB" : "unknown")}");
            w.WriteLine($"  MIG:                {(g.MigEnabled ? $"enabled, {g.MigDevices.Count} device(s)" : "disabled")}");
            foreach (var d in g.MigDevices)
                w.WriteLine($"    MIG {d.Id}  {d.Uuid}  {d.Profile}  (GPU instance {d.GpuInstanceId}, compute instance {d.ComputeInstanceId})");
        }
        return w.ToString();
    }
}

internal sealed record InfoGpu(int Index, int Minor, bool DeviceNodePresent, string Uuid, string BusId, string? Model, string? Brand, string? ComputeCapability,
    ulong? MemoryMiB, bool MigEnabled, List<InfoMig> MigDevices);

internal sealed record InfoMig(string Id, string Uuid, int GpuInstanceId, int ComputeInstanceId, string? Profile);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(InfoReport))]
internal sealed partial class InfoJsonContext : JsonSerializerContext;

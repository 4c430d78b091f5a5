using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

internal sealed record GenerateOptions
{
    public string Vendor { get; init; } = "nvidia.com";
    public string Class { get; init; } = "gpu";
    public IReadOnlyList<string> NamingStrategies { get; init; } = ["index", "uuid"];
    public IReadOnlyList<string> DeviceIds { get; init; } = ["all"];
    public bool NoAllDevice { get; init; }
    public bool AdditionalGids { get; init; } = true;
    /// <summary>Whether GPUs bring their DRM nodes (/dev/dri) and by-path links: the graphics side of a GPU.</summary>
    public bool DrmNodes { get; init; } = true;
}

// discovery → one CDI spec: a device per GPU / MIG device under each naming strategy, the common edits,
// and (unless told not to) the merged "all" device. The spec is deterministic for a given host.
internal static class SpecGenerator
{
    public static readonly string[] Strategies = ["index", "uuid", "type-index"];

    public static Spec Generate(DriverInventory inv, HookFactory hooks, GenerateOptions o)
    {
        foreach (var s in o.NamingStrategies)
            if (!Strategies.Contains(s)) throw new UsageException($"invalid device name strategy '{s}': use index, uuid or type-index");
        var builder = new DeviceEditsBuilder(inv, hooks, o.AdditionalGids, o.DrmNodes);
        var devices = new List<Device>();
        var noneRequested = o.DeviceIds.Contains("none");
        foreach (var (names, edits) in Select(inv, builder, o))
            foreach (var strategy in o.NamingStrategies)
            {
                var name = names(strategy);
                if (devices.All(d => d.Name != name)) devices.Add(new Device { Name = name, ContainerEdits = edits() });
            }
        if (noneRequested) devices.Add(new Device { Name = "none", ContainerEdits = new ContainerEdits { Env = ["NVCT_EMPTY_DEVICE="] } });
        var common = CommonEditsBuilder.Build(inv, hooks);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var spec = new Spec { Kind = $"{o.Vendor}/{o.Class}", Devices = devices, ContainerEdits = common };
        return SpecAssembly.Assemble(spec, addAllDevice: !o.NoAllDevice && !noneRequested);
    }

    // Each selected device: how it is named under a strategy, and how to build its edits.
    static IEnumerable<(Func<string, string> Names, Func<ContainerEdits> Edits)> Select(DriverInventory inv, DeviceEditsBuilder b, GenerateOptions o)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in o.DeviceIds)
        {
            if (id == "none") continue;
            if (id == "all")
            {
                foreach (var g in inv.Gpus)
                {
                    if (!g.MigEnabled) { if (seen.Add(g.Uuid)) yield return Gpu(b, g); }
                    else foreach (var m in g.MigDevices) if (seen.Add(m.Uuid)) yield return Mig(b, g, m);
                }
                continue;
            }
            var (gpu, mig) = Resolve(inv, id);
            if (mig is null) { if (seen.Add(gpu.Uuid)) yield return Gpu(b, gpu); }
            else if (seen.Add(mig.Uuid)) yield return Mig(b, gpu, mig);
        }
    }

    static (Func<string, string>, Func<ContainerEdits>) Gpu(DeviceEditsBuilder b, GpuInfo g) =>
        (s => s switch { "uuid" => g.Uuid, "type-index" => $"gpu{g.Index}", _ => $"{g.Index}" }, () => b.ForGpu(g));

    static (Func<string, string>, Func<ContainerEdits>) Mig(DeviceEditsBuilder b, GpuInfo g, MigInfo m) =>
        (s => s switch { "uuid" => m.Uuid, "type-index" => $"mig{g.Index}:{m.Index}", _ => $"{g.Index}:{m.Index}" }, () => b.ForMig(g, m));

    /// <summary>A device id as users write it: index "1", MIG index "0:2", or a GPU-/MIG- UUID.</summary>
    public static (GpuInfo Gpu, MigInfo? Mig) Resolve(DriverInventory inv, string id)
    {
        var range = inv.Gpus.Count == 0 ? "this host has no GPUs" : $"this host has GPUs 0..{inv.Gpus.Count - 1}";
        var parts = id.Split(':');
        if (parts.Length == 1 && int.TryParse(id, out var index))
            return (inv.Gpus.FirstOrDefault(g => g.Index == index) ?? throw new GantryException($"unknown device id '{id}': {range}"), null);
        if (parts.Length == 2 && int.TryParse(parts[0], out var gi) && int.TryParse(parts[1], out var mi))
        {
            var gpu = inv.Gpus.FirstOrDefault(g => g.Index == gi) ?? throw new GantryException($"unknown device id '{id}': {range}");
            var mig = gpu.MigDevices.FirstOrDefault(m => m.Index == mi)
                      ?? throw new GantryException($"unknown device id '{id}': GPU {gi} has {(gpu.MigEnabled ? $"MIG devices 0..{gpu.MigDevices.Count - 1}" : "no MIG devices")}");
            return (gpu, mig);
        }
        foreach (var g in inv.Gpus)
        {
            if (g.Uuid.Equals(id, StringComparison.OrdinalIgnoreCase)) return (g, null);
            foreach (var m in g.MigDevices) if (m.Uuid.Equals(id, StringComparison.OrdinalIgnoreCase)) return (g, m);
        }
        throw new GantryException($"unknown device id '{id}': not an index, MIG index (GPU:MIG) or UUID of a device on this host ({range})");
    }
}

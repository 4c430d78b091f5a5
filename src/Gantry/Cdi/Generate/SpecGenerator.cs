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
    /// <summary>enable-coherent-annotations: also a spec of the coherent and one of the non-coherent full GPUs.</summary>
    public bool SplitByCoherence { get; init; }
}

/// <summary>A generated spec and what goes before the output file's extension ("" for the main spec).</summary>
internal sealed record GeneratedSpec(Spec Spec, string FileInfix);

// discovery → one CDI spec: a device per GPU / MIG device under each naming strategy, the common edits,
// and (unless told not to) the merged "all" device. The spec is deterministic for a given host.
internal static class SpecGenerator
{
    public static readonly string[] Strategies = ["index", "uuid", "type-index"];

    public static Spec Generate(DriverInventory inv, HookFactory hooks, GenerateOptions o) => GenerateAll(inv, hooks, o, Log.Silent)[0].Spec;

    /// <summary>The main spec, then with <see cref="GenerateOptions.SplitByCoherence"/> the coherent and non-coherent ones that have devices.</summary>
    public static IReadOnlyList<GeneratedSpec> GenerateAll(DriverInventory inv, HookFactory hooks, GenerateOptions o, Log log)
    {
        foreach (var s in o.NamingStrategies)
            if (!Strategies.Contains(s)) throw new UsageException($"invalid device name strategy '{s}': use index, uuid or type-index");
        var builder = new DeviceEditsBuilder(inv, hooks, o.AdditionalGids, o.DrmNodes);
        var devices = new List<Device>();
        var byCoherence = o.SplitByCoherence ? new Dictionary<bool, List<Device>> { [true] = [], [false] = [] } : null;
        var noneRequested = o.DeviceIds.Contains("none");
        foreach (var (names, edits, fullGpu) in Select(inv, builder, o))
        {
            var named = new List<Device>();
            foreach (var strategy in o.NamingStrategies)
            {
                var name = names(strategy);
                if (devices.All(d => d.Name != name)) named.Add(new Device { Name = name, ContainerEdits = edits() });
            }
            devices.AddRange(named);
            if (byCoherence is not null && fullGpu is not null && CoherenceSplit.IsCoherent(fullGpu, named.Select(d => d.Name), log) is { } coherent)
                byCoherence[coherent].AddRange(named);
        }
        if (noneRequested) devices.Add(new Device { Name = "none", ContainerEdits = new ContainerEdits { Env = ["NVCT_EMPTY_DEVICE="] } });
        var common = CommonEditsBuilder.Build(inv, hooks);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var addAll = !o.NoAllDevice && !noneRequested;
        // Assembly builds a new model and leaves its input alone, so the specs can share the devices and common edits.
        Spec Assemble(string cls, List<Device> of) =>
            SpecAssembly.Assemble(new Spec { Kind = $"{o.Vendor}/{cls}", Devices = of, ContainerEdits = common }, addAll);
        var specs = new List<GeneratedSpec> { new(Assemble(o.Class, devices), "") };
        foreach (var (coherent, infix) in new[] { (true, CoherenceSplit.CoherentInfix), (false, CoherenceSplit.NoncoherentInfix) })
            if (byCoherence?[coherent] is { Count: > 0 } split) specs.Add(new(Assemble(o.Class + infix, split), infix));
        return specs;
    }

    // Each selected device: how it is named under a strategy, and how to build its edits.
    static IEnumerable<(Func<string, string> Names, Func<ContainerEdits> Edits, GpuInfo? FullGpu)> Select(DriverInventory inv, DeviceEditsBuilder b, GenerateOptions o)
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

    static (Func<string, string>, Func<ContainerEdits>, GpuInfo?) Gpu(DeviceEditsBuilder b, GpuInfo g) =>
        (s => s switch { "uuid" => g.Uuid, "type-index" => $"gpu{g.Index}", _ => $"{g.Index}" }, () => b.ForGpu(g), g);

    static (Func<string, string>, Func<ContainerEdits>, GpuInfo?) Mig(DeviceEditsBuilder b, GpuInfo g, MigInfo m) =>
        (s => s switch { "uuid" => m.Uuid, "type-index" => $"mig{g.Index}:{m.Index}", _ => $"{g.Index}:{m.Index}" }, () => b.ForMig(g, m), null);

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

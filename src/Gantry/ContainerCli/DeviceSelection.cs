using System.Globalization;
using Gantry.Discovery;

namespace Gantry.ContainerCli;

/// <summary>Selected GPUs and MIG devices, in the order they were asked for (a MIG device brings its parent after it).</summary>
internal sealed class DeviceSelection
{
    public List<GpuInfo> Gpus { get; } = new();
    public List<(GpuInfo Parent, MigInfo Mig)> Migs { get; } = new();
    /// <summary>True when "all" was among the items (MIG devices then do not count as specifically selected).</summary>
    public bool All { get; private set; }

    // The --device syntax: "all", GPU-UUID, PCI bus id, GPU index, MIG-UUID, or GPU:MIG index; comma-separated,
    // empty items skipped; "all" selects every GPU and MIG device and ends the list.
    public static DeviceSelection Parse(string? spec, IReadOnlyList<GpuInfo> gpus)
    {
        var sel = new DeviceSelection();
        if (spec is null || gpus.Count == 0) return sel;
        foreach (var item in spec.Split(','))
        {
            if (item.Length == 0) continue;
            if (item.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                sel.All = true;
                foreach (var g in gpus) sel.Add(g);
                foreach (var g in gpus) foreach (var m in g.MigDevices) sel.AddMig(g, m);
                break;
            }
            if (FindGpu(item, gpus) is { } gpu) { sel.Add(gpu); continue; }
            if (FindMig(item, gpus) is { } mig) { sel.AddMig(mig.Parent, mig.Mig); sel.Add(mig.Parent); continue; }
            throw new ContainerCliException($"device error: {item}: unknown device");
        }
        return sel;
    }

    void Add(GpuInfo g) { if (!Gpus.Contains(g)) Gpus.Add(g); }
    void AddMig(GpuInfo parent, MigInfo m) { if (!Migs.Exists(x => x.Mig == m)) Migs.Add((parent, m)); }

    static GpuInfo? FindGpu(string item, IReadOnlyList<GpuInfo> gpus)
    {
        if (item.StartsWith("GPU-", StringComparison.OrdinalIgnoreCase) && item.Length > 4 &&
            gpus.FirstOrDefault(g => g.Uuid.Equals(item, StringComparison.OrdinalIgnoreCase)) is { } byUuid)
            return byUuid;
        if (PciBusId(item) is { } bus && gpus.FirstOrDefault(g => g.BusId.StartsWith(bus, StringComparison.OrdinalIgnoreCase)) is { } byBus)
            return byBus;
        if (item.All(char.IsAsciiDigit) && ulong.TryParse(item, out var index) && index < (ulong)gpus.Count)
            return gpus[(int)index];
        return null;
    }

    static (GpuInfo Parent, MigInfo Mig)? FindMig(string item, IReadOnlyList<GpuInfo> gpus)
    {
        if (item.StartsWith("MIG-", StringComparison.OrdinalIgnoreCase) && item.Length > 4)
            foreach (var g in gpus)
                foreach (var m in g.MigDevices)
                    if (m.Uuid.Equals(item, StringComparison.OrdinalIgnoreCase)) return (g, m);
        var parts = item.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[0], out var gi) && int.TryParse(parts[1], out var mi) &&
            gi >= 0 && gi < gpus.Count && mi >= 0 && mi < gpus[gi].MigDevices.Count)
            return (gpus[gi], gpus[gi].MigDevices[mi]);
        return null;
    }

    // "domain:bus:device[.0]" in hex, leading zeros optional, normalised to the "%08x:%02x:%02x.0" spelling.
    static string? PciBusId(string item)
    {
        var parts = item.Split(':');
        if (parts.Length != 3) return null;
        var devPart = parts[2].Split('.')[0];
        if (!Hex(parts[0], out var domain) || !Hex(parts[1], out var bus) || !Hex(devPart, out var dev)) return null;
        return $"{domain:x8}:{bus:x2}:{dev:x2}.0";
    }

    static bool Hex(string s, out uint v) =>
        uint.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v) && s.Length is > 0 and <= 8;
}

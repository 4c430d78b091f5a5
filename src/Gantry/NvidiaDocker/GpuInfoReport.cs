using System.Globalization;
using System.Text;
using Gantry.Discovery;

namespace Gantry.NvidiaDocker;

// /gpu/info and /gpu/info/json: the JSON shape of nvidia-docker 1.0 (NVML and CUDA device facts flattened into
// one object, unknown numbers as null) and its text report. Facts the original took from CUDA come from NVML
// here (architecture, cores, memory size, ECC, bandwidth); those NVML does not have (shared, constant and L2
// memory) are null, which the text report shows as N/A.
internal sealed record GpuInfoReport(GpuInfoVersion Version, IReadOnlyList<GpuInfoDevice> Devices)
{
    const uint MiB = 1 << 20;

    public static GpuInfoReport From(IGpuHost host) =>
        new(new GpuInfoVersion(host.DriverVersion, host.CudaVersion), host.Gpus.Select(Device).ToList());

    static GpuInfoDevice Device(HostGpu g)
    {
        var d = g.Details;
        var arch = g.Info.ComputeCapability;
        return new GpuInfoDevice
        {
            UUID = g.Info.Uuid, Path = g.Node.ContainerPath, Model = g.Info.Name, Power = d.PowerLimitMilliwatts / 1000,
            CPUAffinity = g.NumaNode,
            PCI = new GpuPciInfo(NvmlBusId(g.Info.BusId), d.Bar1TotalBytes / MiB, PcieBandwidth(d.PcieMaxGeneration, d.PcieMaxWidth)),
            Clocks = new GpuClocks(d.MaxSmClockMhz, d.MaxMemoryClockMhz),
            Topology = g.Peers.Count == 0 ? null : g.Peers.Select(p => new GpuP2PLink(NvmlBusId(p.BusId), LinkOf(p.Level))).ToList(),
            Family = arch is null ? null : ArchitectureFamily(arch), Arch = arch, Cores = d.Cores,
            Memory = new GpuMemoryInfo
            {
                ECC = d.EccEnabled, Global = g.Info.MemoryBytes is { } total ? (uint)(total / MiB) : null,
                Bandwidth = d.MaxMemoryClockMhz is { } mhz && d.MemoryBusWidthBits is { } bits ? 2 * mhz * (bits / 8) : null,
            },
        };
    }

    /// <summary>NVML's spelling of a bus id: upper-case hex, 8-digit domain ("00000000:0F:00.0").</summary>
    public static string NvmlBusId(string busId) => busId.ToUpperInvariant();

    /// <summary>The original's P2P link numbers (Unknown 0 … Same board 6).</summary>
    static int LinkOf(GpuTopologyLevel? level) => level switch
    {
        GpuTopologyLevel.System => 1, GpuTopologyLevel.Node => 2, GpuTopologyLevel.HostBridge => 3,
        GpuTopologyLevel.MultipleSwitches => 4, GpuTopologyLevel.SingleSwitch => 5, GpuTopologyLevel.Internal => 6, _ => 0,
    };

    public static string LinkName(int link) => link switch
    {
        1 => "Cross CPU socket", 2 => "Same CPU socket", 3 => "Host PCI bridge", 4 => "Multiple PCI switches",
        5 => "Single PCI switch", 6 => "Same board", _ => "N/A",
    };

    /// <summary>MB/s of the PCIe link at its maximum generation and width (the original's table, plus Gen 5 and 6).</summary>
    static uint? PcieBandwidth(uint? generation, uint? width) =>
        generation is not { } gen || width is not { } lanes ? null
        : lanes * gen switch { 1 => 250u, 2 => 500u, 3 => 985u, 4 => 1969u, 5 => 3938u, 6 => 7563u, _ => 0u };

    /// <summary>The architecture's name; the original knew Tesla to Pascal, later ones are named here too.</summary>
    static string? ArchitectureFamily(string arch) => arch switch
    {
        _ when arch.StartsWith("1.", StringComparison.Ordinal) => "Tesla",
        _ when arch.StartsWith("2.", StringComparison.Ordinal) => "Fermi",
        _ when arch.StartsWith("3.", StringComparison.Ordinal) => "Kepler",
        _ when arch.StartsWith("5.", StringComparison.Ordinal) => "Maxwell",
        _ when arch.StartsWith("6.", StringComparison.Ordinal) => "Pascal",
        "7.0" or "7.2" => "Volta",
        "7.5" => "Turing",
        "8.0" or "8.6" or "8.7" => "Ampere",
        "8.9" => "Ada Lovelace",
        "9.0" => "Hopper",
        _ when arch.StartsWith("10.", StringComparison.Ordinal) || arch.StartsWith("12.", StringComparison.Ordinal) => "Blackwell",
        _ => null,
    };

    /// <summary>The text report, laid out as the original's template through Go's tabwriter.</summary>
    public string ToText()
    {
        var t = new StringBuilder();
        t.Append("\n\tDriver version:  \t").Append(Version.Driver).Append("\n\tSupported CUDA version:  \t").Append(Version.CUDA).Append("\n\t");
        for (var i = 0; i < Devices.Count; i++)
        {
            var d = Devices[i];
            t.Append("\n\tDevice #").Append(i.ToString(CultureInfo.InvariantCulture));
            Row(t, "  Model:  ", d.Model ?? "N/A");
            Row(t, "  UUID:  ", d.UUID);
            Row(t, "  Path:  ", d.Path);
            Row(t, "  Family: ", d.Family ?? "N/A");
            Row(t, "  Arch:  ", d.Arch ?? "N/A");
            Row(t, "  Cores:  ", Text.Or(d.Cores));
            Row(t, "  Power:  ", Text.With(d.Power, " W"));
            Row(t, "  CPU Affinity:  ", d.CPUAffinity is { } node ? $"NUMA node{node}" : "N/A");
            t.Append("\n\t  PCI");
            Row(t, "    Bus ID:  ", d.PCI.BusID);
            Row(t, "    BAR1:  ", Text.With(d.PCI.BAR1, " MiB"));
            Row(t, "    Bandwidth:  ", Text.With(d.PCI.Bandwidth, " MB/s"));
            t.Append("\n\t  Memory");
            Row(t, "    ECC:  ", d.Memory.ECC is { } ecc ? (ecc ? "true" : "false") : "N/A");
            Row(t, "    Global:  ", Text.With(d.Memory.Global, " MiB"));
            Row(t, "    Constant:  ", Text.With(d.Memory.Constant, " KiB"));
            Row(t, "    Shared:  ", Text.With(d.Memory.Shared, " KiB"));
            Row(t, "    L2 Cache:  ", Text.With(d.Memory.L2Cache, " KiB"));
            Row(t, "    Bandwidth:  ", Text.With(d.Memory.Bandwidth, " MB/s"));
            t.Append("\n\t  Clocks");
            Row(t, "    Cores:  ", Text.With(d.Clocks.Cores, " MHz"));
            Row(t, "    Memory:  ", Text.With(d.Clocks.Memory, " MHz"));
            t.Append("\n\t  P2P Available");
            if (d.Topology is not { Count: > 0 } peers) t.Append(":  \tNone");
            else foreach (var p in peers) t.Append("\n\t    ").Append(p.BusID).Append(" - ").Append(LinkName(p.Link));
            t.Append("\n\t");
        }
        t.Append("\n\t");
        return GoTabWriter.Format(t.ToString());
    }

    static void Row(StringBuilder t, string label, string value) => t.Append("\n\t").Append(label).Append('\t').Append(value);
}

internal sealed record GpuInfoVersion(string Driver, string CUDA);

internal sealed record GpuInfoDevice
{
    public required string UUID { get; init; }
    public required string Path { get; init; }
    public string? Model { get; init; }
    public uint? Power { get; init; }
    public uint? CPUAffinity { get; init; }
    public required GpuPciInfo PCI { get; init; }
    public required GpuClocks Clocks { get; init; }
    public IReadOnlyList<GpuP2PLink>? Topology { get; init; }
    public string? Family { get; init; }
    public string? Arch { get; init; }
    public uint? Cores { get; init; }
    public required GpuMemoryInfo Memory { get; init; }
}

internal sealed record GpuPciInfo(string BusID, ulong? BAR1, uint? Bandwidth);
internal sealed record GpuClocks(uint? Cores, uint? Memory);
internal sealed record GpuP2PLink(string BusID, int Link);

internal sealed record GpuMemoryInfo
{
    public bool? ECC { get; init; }
    public uint? Global { get; init; }
    public uint? Shared { get; init; }
    public uint? Constant { get; init; }
    public uint? L2Cache { get; init; }
    public uint? Bandwidth { get; init; }
}

/// <summary>How the original's templates print an optional number: the value (and unit), or N/A.</summary>
internal static class Text
{
    public static string Or<T>(T? value) where T : struct, IFormattable =>
        value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "N/A";

    public static string With<T>(T? value, string unit) where T : struct, IFormattable =>
        value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) + unit : "N/A";
}

using System.Globalization;
using Gantry.Discovery;

namespace Gantry.Simulation;

/// <summary>A facts-file reading: constant, or a live value that walks within [Lo, Hi] (see nvml.c).</summary>
internal readonly record struct NvmlReading(ulong Lo, ulong Hi)
{
    public static NvmlReading Constant(ulong value) => new(value, value);

    public override string ToString() => Lo == Hi
        ? Lo.ToString(CultureInfo.InvariantCulture)
        : $"{Lo.ToString(CultureInfo.InvariantCulture)}..{Hi.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>What the NVML stand-in reports about a GPU's power, clocks, PCIe link, ECC and processes.</summary>
internal sealed record GpuTelemetryFacts
{
    public NvmlReading? Power { get; init; }              // mW
    public NvmlReading? PowerLimit { get; init; }         // mW
    public NvmlReading? Temperature { get; init; }        // °C
    public NvmlReading? UtilizationGpu { get; init; }     // %
    public NvmlReading? UtilizationMemory { get; init; }  // %
    public NvmlReading? Encoder { get; init; }            // %
    public NvmlReading? Decoder { get; init; }            // %
    public NvmlReading? ClockSm { get; init; }            // MHz
    public NvmlReading? ClockMemory { get; init; }        // MHz
    public NvmlReading? MaxClockSm { get; init; }
    public NvmlReading? MaxClockMemory { get; init; }
    public NvmlReading? Bar1Total { get; init; }          // bytes
    public NvmlReading? Bar1Used { get; init; }
    public NvmlReading? PcieGeneration { get; init; }
    public NvmlReading? PcieWidth { get; init; }
    public NvmlReading? PcieRx { get; init; }             // KB/s
    public NvmlReading? PcieTx { get; init; }
    public NvmlReading? Cores { get; init; }
    public NvmlReading? MemoryBusWidth { get; init; }     // bits
    public NvmlReading? Ecc { get; init; }                // 0/1
    public NvmlReading? EccErrorsL1 { get; init; }
    public NvmlReading? EccErrorsL2 { get; init; }
    public NvmlReading? EccErrorsMemory { get; init; }
    public NvmlReading? MemoryUsed { get; init; }         // bytes; replaces NvmlGpuExtras.MemoryUsedBytes
    public IReadOnlyList<GpuProcess> Processes { get; init; } = [];

    /// <summary>The facts-file lines, in a fixed order; absent readings are left out.</summary>
    public IEnumerable<(string Key, string Value)> Lines()
    {
        var readings = new (string, NvmlReading?)[]
        {
            ("power", Power), ("power-limit", PowerLimit), ("temperature", Temperature), ("utilization-gpu", UtilizationGpu),
            ("utilization-memory", UtilizationMemory), ("encoder", Encoder), ("decoder", Decoder), ("clock-sm", ClockSm),
            ("clock-mem", ClockMemory), ("max-clock-sm", MaxClockSm), ("max-clock-mem", MaxClockMemory), ("bar1-total", Bar1Total),
            ("bar1-used", Bar1Used), ("pcie-gen", PcieGeneration), ("pcie-width", PcieWidth), ("pcie-rx", PcieRx), ("pcie-tx", PcieTx),
            ("cores", Cores), ("memory-bus-width", MemoryBusWidth), ("ecc", Ecc), ("ecc-errors-l1", EccErrorsL1),
            ("ecc-errors-l2", EccErrorsL2), ("ecc-errors-memory", EccErrorsMemory), ("memory-used", MemoryUsed),
        };
        foreach (var (key, reading) in readings)
            if (reading is { } r) yield return (key, r.ToString());
        foreach (var p in Processes)
        {
            if (p.Name.Length == 0 || p.Name.Any(char.IsWhiteSpace))
                throw new ArgumentException($"process name '{p.Name}' must be one word for the facts file");
            yield return ("process", FormattableString.Invariant($"{p.Pid} {p.Name} {p.UsedMemoryBytes}"));
        }
    }
}

/// <summary>A topology fact between two GPUs by NVML index.</summary>
internal sealed record GpuTopologyFact(int A, int B, GpuTopologyLevel Level);

// Plausible telemetry for the simulated GPUs, from the model's data sheet (limits, clocks, cores, PCIe), with
// live readings that wander through their usual range, a compute process on every other GPU, and a DGX-like
// PCIe tree: pairs behind one switch, four GPUs per NUMA node.
internal static class SimulatedTelemetry
{
    const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    sealed record Model(uint LimitWatts, uint IdleWatts, uint MaxSm, uint MaxMem, uint Cores, uint BusWidth, uint PcieGen, ulong Bar1);

    public static Dictionary<int, NvmlGpuExtras> Extras(NvmlSnapshot snapshot) =>
        snapshot.Gpus.ToDictionary(g => g.Index, g => new NvmlGpuExtras { Telemetry = For(g) });

    public static List<GpuTopologyFact> Topology(NvmlSnapshot snapshot)
    {
        var facts = new List<GpuTopologyFact>();
        var n = snapshot.Gpus.Count;
        for (var a = 0; a < n; a++)
            for (var b = a + 1; b < n; b++)
                facts.Add(new GpuTopologyFact(a, b, a / 2 == b / 2 ? GpuTopologyLevel.SingleSwitch
                    : a / 4 == b / 4 ? GpuTopologyLevel.Node : GpuTopologyLevel.System));
        return facts;
    }

    public static GpuTelemetryFacts For(GpuInfo gpu)
    {
        var m = ModelOf(gpu.Name ?? "");
        var total = gpu.MemoryBytes ?? 16 * GiB;
        var busy = gpu.Index % 2 == 0;
        return new GpuTelemetryFacts
        {
            Power = new NvmlReading(m.IdleWatts * 1000UL, m.LimitWatts * 800UL),
            PowerLimit = NvmlReading.Constant(m.LimitWatts * 1000UL),
            Temperature = new NvmlReading(29, busy ? 74UL : 45UL),
            UtilizationGpu = new NvmlReading(0, busy ? 100UL : 3UL),
            UtilizationMemory = new NvmlReading(0, busy ? 65UL : 1UL),
            Encoder = NvmlReading.Constant(0),
            Decoder = NvmlReading.Constant(0),
            ClockSm = new NvmlReading(210, m.MaxSm),
            ClockMemory = NvmlReading.Constant(m.MaxMem),
            MaxClockSm = NvmlReading.Constant(m.MaxSm),
            MaxClockMemory = NvmlReading.Constant(m.MaxMem),
            Bar1Total = NvmlReading.Constant(m.Bar1),
            Bar1Used = new NvmlReading(2 * MiB, 64 * MiB),
            PcieGeneration = NvmlReading.Constant(m.PcieGen),
            PcieWidth = NvmlReading.Constant(16),
            PcieRx = new NvmlReading(0, busy ? 3_000_000UL : 1_000UL),
            PcieTx = new NvmlReading(0, busy ? 1_500_000UL : 1_000UL),
            Cores = NvmlReading.Constant(m.Cores),
            MemoryBusWidth = NvmlReading.Constant(m.BusWidth),
            Ecc = NvmlReading.Constant(1),
            EccErrorsL1 = NvmlReading.Constant(0),
            EccErrorsL2 = NvmlReading.Constant(0),
            EccErrorsMemory = NvmlReading.Constant(0),
            MemoryUsed = busy ? new NvmlReading(Math.Min(total, 3 * GiB), Math.Min(total, 9 * GiB)) : new NvmlReading(0, Math.Min(total, 5 * MiB)),
            Processes = busy ? [new GpuProcess((uint)(4242 + gpu.Index), "python3", Math.Min(total, 2 * GiB))] : [],
        };
    }

    static Model ModelOf(string name) =>
        name.Contains("H100") || name.Contains("H200") ? new(700, 70, 1980, 2619, 16896, 5120, 5, 128 * GiB) :
        name.Contains("A100") ? new(400, 55, 1410, 1215, 6912, 5120, 4, 64 * GiB) :
        name.Contains("A30") ? new(165, 30, 1440, 1215, 3584, 3072, 4, 32 * GiB) :
        name.Contains("V100") ? new(300, 40, 1530, 877, 5120, 4096, 3, 32 * GiB) :
        name.Contains("T4") ? new(70, 10, 1590, 5001, 2560, 256, 3, 256 * MiB) :
        new(300, 25, 1860, 7001, 10752, 384, 4, 256 * MiB);
}

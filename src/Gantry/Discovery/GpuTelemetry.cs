namespace Gantry.Discovery;

/// <summary>
/// Facts about a GPU that do not change while it runs, beyond <see cref="GpuInfo"/>: what NVML reports for
/// limits and capabilities. Null = the driver does not report it (NOT_SUPPORTED or no such entry point).
/// </summary>
internal sealed record GpuDetails
{
    public uint? PowerLimitMilliwatts { get; init; }
    public uint? MaxSmClockMhz { get; init; }
    public uint? MaxMemoryClockMhz { get; init; }
    public ulong? Bar1TotalBytes { get; init; }
    public uint? PcieMaxGeneration { get; init; }
    public uint? PcieMaxWidth { get; init; }
    public uint? Cores { get; init; }
    public uint? MemoryBusWidthBits { get; init; }
    public bool? EccEnabled { get; init; }

    public static GpuDetails None { get; } = new();
}

/// <summary>One reading of a GPU's live state, in NVML's units. Null = not reported.</summary>
internal sealed record GpuStatus
{
    public uint? PowerMilliwatts { get; init; }
    public uint? TemperatureCelsius { get; init; }
    public uint? UtilizationGpuPercent { get; init; }
    public uint? UtilizationMemoryPercent { get; init; }
    public uint? EncoderPercent { get; init; }
    public uint? DecoderPercent { get; init; }
    public ulong? MemoryUsedBytes { get; init; }
    public ulong? MemoryTotalBytes { get; init; }
    public uint? SmClockMhz { get; init; }
    public uint? MemoryClockMhz { get; init; }
    public ulong? Bar1UsedBytes { get; init; }
    public uint? PcieRxKilobytesPerSecond { get; init; }
    public uint? PcieTxKilobytesPerSecond { get; init; }
    public ulong? EccErrorsL1 { get; init; }
    public ulong? EccErrorsL2 { get; init; }
    public ulong? EccErrorsMemory { get; init; }
    /// <summary>Compute processes; null when the driver cannot list them.</summary>
    public IReadOnlyList<GpuProcess>? Processes { get; init; }
}

internal sealed record GpuProcess(uint Pid, string Name, ulong UsedMemoryBytes);

/// <summary>nvmlGpuTopologyLevel_t: how close two GPUs are on the PCI tree (lower is closer).</summary>
internal enum GpuTopologyLevel
{
    Internal = 0,        // same board (multi-GPU card)
    SingleSwitch = 10,
    MultipleSwitches = 20,
    HostBridge = 30,
    Node = 40,           // same NUMA node / CPU socket (NVML_TOPOLOGY_CPU in older headers)
    System = 50,         // across CPU sockets
}

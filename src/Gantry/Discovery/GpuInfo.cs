namespace Gantry.Discovery;

/// <summary>One physical GPU as discovery sees it. Index is the NVML enumeration index (not the minor).</summary>
internal sealed record GpuInfo
{
    public required int Index { get; init; }
    public required int Minor { get; init; }
    public required string Uuid { get; init; }
    /// <summary>PCI bus id with an 8-hex-digit domain, lower case: "00000000:07:00.0".</summary>
    public required string BusId { get; init; }
    public string? Name { get; init; }
    public string? Brand { get; init; }
    /// <summary>"8.0"; null when only procfs was available.</summary>
    public string? ComputeCapability { get; init; }
    public ulong? MemoryBytes { get; init; }
    public bool MigEnabled { get; init; }
    /// <summary>NVML answered the MIG mode query (enabled or not); false when the GPU has no MIG or NVML was not asked.</summary>
    public bool MigCapable { get; init; }
    /// <summary>nvmlDeviceGetAddressingMode: 0 none, 1 HMM, 2 ATS (coherent); null when not reported, -1 when the call failed.</summary>
    public int? AddressingMode { get; init; }
    public const int AddressingModeAts = 2, AddressingModeUnreadable = -1;
    public IReadOnlyList<MigInfo> MigDevices { get; init; } = [];
}

/// <summary>A MIG device (GPU instance + compute instance) of a parent GPU.</summary>
internal sealed record MigInfo
{
    public required int ParentIndex { get; init; }
    /// <summary>Index of the MIG device among its parent's, as in "0:1".</summary>
    public required int Index { get; init; }
    public required string Uuid { get; init; }
    public required int GpuInstanceId { get; init; }
    public required int ComputeInstanceId { get; init; }
    public string? Profile { get; init; }
    public ulong? MemoryBytes { get; init; }
}

/// <summary>What NVML (or its stand-in) reports about the driver and its GPUs.</summary>
internal sealed record NvmlSnapshot
{
    public required string DriverVersion { get; init; }
    /// <summary>NVML's integer form, e.g. 12040 for CUDA 12.4.</summary>
    public required int CudaDriverVersion { get; init; }
    public required IReadOnlyList<GpuInfo> Gpus { get; init; }

    public string CudaVersionText => $"{CudaDriverVersion / 1000}.{CudaDriverVersion % 1000 / 10}";
}

using System.Buffers.Binary;
using static Gantry.Discovery.Nvml.NvmlTelemetryCodes;

namespace Gantry.Discovery.Nvml;

// Live readings of one GPU handle. As the nvidia-docker plugin always did: a reading the GPU does not support
// (NOT_SUPPORTED, or an entry point the library lacks) is null; any other NVML failure throws, and the caller
// answers "internal error".
internal sealed unsafe class NvmlTelemetryReader(NvmlApi api, NvmlTelemetryApi t)
{
    // Far above what a GPU runs at once; bounds the buffer a broken library could ask for.
    const uint MaxProcesses = 4096;

    public GpuDetails Details(nint device)
    {
        int ecc, eccPending;
        return new GpuDetails
        {
            PowerLimitMilliwatts = Uint(t.PowerManagementLimit, device, "nvmlDeviceGetPowerManagementLimit"),
            MaxSmClockMhz = Clock(t.MaxClockInfo, device, ClockSm, "nvmlDeviceGetMaxClockInfo"),
            MaxMemoryClockMhz = Clock(t.MaxClockInfo, device, ClockMem, "nvmlDeviceGetMaxClockInfo"),
            Bar1TotalBytes = Bar1(device)?.Total,
            PcieMaxGeneration = Uint(t.MaxPcieLinkGeneration, device, "nvmlDeviceGetMaxPcieLinkGeneration"),
            PcieMaxWidth = Uint(t.MaxPcieLinkWidth, device, "nvmlDeviceGetMaxPcieLinkWidth"),
            Cores = Uint(t.NumGpuCores, device, "nvmlDeviceGetNumGpuCores"),
            MemoryBusWidthBits = Uint(t.MemoryBusWidth, device, "nvmlDeviceGetMemoryBusWidth"),
            EccEnabled = t.EccMode != null && Supported(t.EccMode(device, &ecc, &eccPending), "nvmlDeviceGetEccMode") ? ecc != 0 : null,
        };
    }

    public GpuStatus Status(nint device, ulong? memoryTotal)
    {
        NvmlUtilization u = default;
        var haveUtil = t.UtilizationRates != null && Supported(t.UtilizationRates(device, &u), "nvmlDeviceGetUtilizationRates");
        NvmlMemory m;
        var haveMemory = Supported(api.DeviceGetMemoryInfo(device, &m), "nvmlDeviceGetMemoryInfo");
        var (l1, l2, dram) = EccErrors(device);
        return new GpuStatus
        {
            PowerMilliwatts = Uint(t.PowerUsage, device, "nvmlDeviceGetPowerUsage"),
            TemperatureCelsius = Temperature(device),
            UtilizationGpuPercent = haveUtil ? u.Gpu : null,
            UtilizationMemoryPercent = haveUtil ? u.Memory : null,
            EncoderPercent = Codec(t.EncoderUtilization, device, "nvmlDeviceGetEncoderUtilization"),
            DecoderPercent = Codec(t.DecoderUtilization, device, "nvmlDeviceGetDecoderUtilization"),
            MemoryUsedBytes = haveMemory ? m.Used : null,
            MemoryTotalBytes = haveMemory ? m.Total : memoryTotal,
            SmClockMhz = Clock(t.ClockInfo, device, ClockSm, "nvmlDeviceGetClockInfo"),
            MemoryClockMhz = Clock(t.ClockInfo, device, ClockMem, "nvmlDeviceGetClockInfo"),
            Bar1UsedBytes = Bar1(device)?.Used,
            PcieRxKilobytesPerSecond = Throughput(device, PcieRx),
            PcieTxKilobytesPerSecond = Throughput(device, PcieTx),
            EccErrorsL1 = l1, EccErrorsL2 = l2, EccErrorsMemory = dram,
            Processes = Processes(device),
        };
    }

    public GpuTopologyLevel? Topology(nint a, nint b)
    {
        if (t.TopologyCommonAncestor == null) return null;
        int level;
        if (!Supported(t.TopologyCommonAncestor(a, b, &level), "nvmlDeviceGetTopologyCommonAncestor")) return null;
        return Enum.IsDefined((GpuTopologyLevel)level) ? (GpuTopologyLevel)level : null;
    }

    uint? Uint(delegate* unmanaged<nint, uint*, int> call, nint device, string function)
    {
        if (call == null) return null;
        uint v;
        return Supported(call(device, &v), function) ? v : null;
    }

    uint? Clock(delegate* unmanaged<nint, int, uint*, int> call, nint device, int type, string function)
    {
        if (call == null) return null;
        uint v;
        return Supported(call(device, type, &v), function) ? v : null;
    }

    uint? Codec(delegate* unmanaged<nint, uint*, uint*, int> call, nint device, string function)
    {
        if (call == null) return null;
        uint v, period;
        return Supported(call(device, &v, &period), function) ? v : null;
    }

    uint? Temperature(nint device)
    {
        if (t.Temperature == null) return null;
        uint v;
        return Supported(t.Temperature(device, TemperatureGpu, &v), "nvmlDeviceGetTemperature") ? v : null;
    }

    uint? Throughput(nint device, int counter)
    {
        if (t.PcieThroughput == null) return null;
        uint v;
        return Supported(t.PcieThroughput(device, counter, &v), "nvmlDeviceGetPcieThroughput") ? v : null;
    }

    NvmlBar1Memory? Bar1(nint device)
    {
        if (t.Bar1MemoryInfo == null) return null;
        NvmlBar1Memory b;
        return Supported(t.Bar1MemoryInfo(device, &b), "nvmlDeviceGetBAR1MemoryInfo") ? b : null;
    }

    // Uncorrected volatile counts of L1, L2 and device memory; all null when the first is not supported.
    (ulong?, ulong?, ulong?) EccErrors(nint device)
    {
        if (t.MemoryErrorCounter == null) return (null, null, null);
        ulong l1, l2, dram;
        if (!Supported(t.MemoryErrorCounter(device, ErrorUncorrected, VolatileEcc, LocationL1, &l1), "nvmlDeviceGetMemoryErrorCounter"))
            return (null, null, null);
        Check(t.MemoryErrorCounter(device, ErrorUncorrected, VolatileEcc, LocationL2, &l2), "nvmlDeviceGetMemoryErrorCounter");
        Check(t.MemoryErrorCounter(device, ErrorUncorrected, VolatileEcc, LocationDeviceMemory, &dram), "nvmlDeviceGetMemoryErrorCounter");
        return (l1, l2, dram);
    }

    IReadOnlyList<GpuProcess>? Processes(nint device)
    {
        if (t.ComputeRunningProcesses == null) return null;
        // Ask for the count first, then read; retry if processes started in between.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            uint count = 0;
            var rc = t.ComputeRunningProcesses(device, &count, null);
            if (rc == NvmlReturn.NotSupported) return null;
            if (rc == NvmlReturn.Success) return [];
            if (rc != NvmlReturn.InsufficientSize) Check(rc, "nvmlDeviceGetComputeRunningProcesses");
            if (count > MaxProcesses) throw new NvmlCallException(0, $"nvml error: implausible process count {count}");
            var size = t.ProcessInfoSize;
            var buffer = new byte[(int)count * size];
            fixed (byte* p = buffer) rc = t.ComputeRunningProcesses(device, &count, p);
            if (rc == NvmlReturn.InsufficientSize) continue;
            Check(rc, "nvmlDeviceGetComputeRunningProcesses");
            var list = new List<GpuProcess>((int)count);
            for (var i = 0; i < (int)count; i++)
            {
                var entry = buffer.AsSpan(i * size, size);
                var pid = BinaryPrimitives.ReadUInt32LittleEndian(entry);
                var used = BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]);   // after 4 bytes of padding
                // A process that exited since the listing has no name any more: it is gone, so leave it out.
                if (ProcessName(pid) is { } name) list.Add(new GpuProcess(pid, name, used));
            }
            return list;
        }
        throw new NvmlCallException(NvmlReturn.InsufficientSize, "nvml error: the process list kept growing while it was read");
    }

    string? ProcessName(uint pid)
    {
        if (t.SystemGetProcessName == null) return "";
        var buffer = stackalloc byte[ProcessNameBuffer];
        var rc = t.SystemGetProcessName(pid, buffer, ProcessNameBuffer);
        if (rc == NvmlReturn.NotFound) return null;
        if (!Supported(rc, "nvmlSystemGetProcessName")) return "";
        var span = new ReadOnlySpan<byte>(buffer, ProcessNameBuffer);
        var end = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    bool Supported(int rc, string function)
    {
        if (rc is NvmlReturn.NotSupported or NvmlReturn.FunctionNotFound) return false;
        Check(rc, function);
        return true;
    }

    void Check(int rc, string function)
    {
        if (rc != NvmlReturn.Success) throw new NvmlCallException(rc, $"nvml error: {api.Describe(rc)} calling {function}");
    }
}

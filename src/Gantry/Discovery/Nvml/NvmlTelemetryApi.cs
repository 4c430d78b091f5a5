using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

// The NVML entry points behind live GPU readings (power, thermals, utilization, clocks, PCIe, ECC, processes,
// topology). Every one is optional: a driver (or stand-in) without a symbol simply has no such reading, so a
// null pointer here means "not supported", never an error.
internal sealed unsafe class NvmlTelemetryApi
{
    public delegate* unmanaged<nint, uint*, int> PowerUsage;                    // mW
    public delegate* unmanaged<nint, uint*, int> PowerManagementLimit;          // mW
    public delegate* unmanaged<nint, int, uint*, int> Temperature;              // sensor, °C
    public delegate* unmanaged<nint, NvmlUtilization*, int> UtilizationRates;
    public delegate* unmanaged<nint, uint*, uint*, int> EncoderUtilization;     // %, sampling period µs
    public delegate* unmanaged<nint, uint*, uint*, int> DecoderUtilization;
    public delegate* unmanaged<nint, int, uint*, int> ClockInfo;                // clock type, MHz
    public delegate* unmanaged<nint, int, uint*, int> MaxClockInfo;
    public delegate* unmanaged<nint, NvmlBar1Memory*, int> Bar1MemoryInfo;
    public delegate* unmanaged<nint, uint*, int> MaxPcieLinkGeneration;
    public delegate* unmanaged<nint, uint*, int> MaxPcieLinkWidth;
    public delegate* unmanaged<nint, int, uint*, int> PcieThroughput;           // counter, KB/s
    public delegate* unmanaged<nint, uint*, int> NumGpuCores;
    public delegate* unmanaged<nint, uint*, int> MemoryBusWidth;                // bits
    public delegate* unmanaged<nint, int*, int*, int> EccMode;
    public delegate* unmanaged<nint, int, int, int, ulong*, int> MemoryErrorCounter;
    public delegate* unmanaged<nint, uint*, byte*, int> ComputeRunningProcesses;
    /// <summary>Bytes per element of the struct ComputeRunningProcesses fills (v3 32, v2 24, v1 16).</summary>
    public int ProcessInfoSize;
    public delegate* unmanaged<uint, byte*, uint, int> SystemGetProcessName;
    public delegate* unmanaged<nint, nint, int*, int> TopologyCommonAncestor;

    NvmlTelemetryApi() { }

    public static NvmlTelemetryApi Resolve(nint library)
    {
        nint Want(string name) => NativeLibrary.TryGetExport(library, name, out var address) ? address : 0;
        var api = new NvmlTelemetryApi
        {
            PowerUsage = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetPowerUsage"),
            PowerManagementLimit = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetPowerManagementLimit"),
            Temperature = (delegate* unmanaged<nint, int, uint*, int>)Want("nvmlDeviceGetTemperature"),
            UtilizationRates = (delegate* unmanaged<nint, NvmlUtilization*, int>)Want("nvmlDeviceGetUtilizationRates"),
            EncoderUtilization = (delegate* unmanaged<nint, uint*, uint*, int>)Want("nvmlDeviceGetEncoderUtilization"),
            DecoderUtilization = (delegate* unmanaged<nint, uint*, uint*, int>)Want("nvmlDeviceGetDecoderUtilization"),
            ClockInfo = (delegate* unmanaged<nint, int, uint*, int>)Want("nvmlDeviceGetClockInfo"),
            MaxClockInfo = (delegate* unmanaged<nint, int, uint*, int>)Want("nvmlDeviceGetMaxClockInfo"),
            Bar1MemoryInfo = (delegate* unmanaged<nint, NvmlBar1Memory*, int>)Want("nvmlDeviceGetBAR1MemoryInfo"),
            MaxPcieLinkGeneration = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetMaxPcieLinkGeneration"),
            MaxPcieLinkWidth = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetMaxPcieLinkWidth"),
            PcieThroughput = (delegate* unmanaged<nint, int, uint*, int>)Want("nvmlDeviceGetPcieThroughput"),
            NumGpuCores = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetNumGpuCores"),
            MemoryBusWidth = (delegate* unmanaged<nint, uint*, int>)Want("nvmlDeviceGetMemoryBusWidth"),
            EccMode = (delegate* unmanaged<nint, int*, int*, int>)Want("nvmlDeviceGetEccMode"),
            MemoryErrorCounter = (delegate* unmanaged<nint, int, int, int, ulong*, int>)Want("nvmlDeviceGetMemoryErrorCounter"),
            SystemGetProcessName = (delegate* unmanaged<uint, byte*, uint, int>)Want("nvmlSystemGetProcessName"),
            TopologyCommonAncestor = (delegate* unmanaged<nint, nint, int*, int>)Want("nvmlDeviceGetTopologyCommonAncestor"),
        };
        // The newest process struct the library offers; each version only appends fields after pid and memory.
        foreach (var (name, size) in new[] { ("nvmlDeviceGetComputeRunningProcesses_v3", 32), ("nvmlDeviceGetComputeRunningProcesses_v2", 24),
                     ("nvmlDeviceGetComputeRunningProcesses", 16) })
        {
            var address = Want(name);
            if (address == 0) continue;
            api.ComputeRunningProcesses = (delegate* unmanaged<nint, uint*, byte*, int>)address;
            api.ProcessInfoSize = size;
            break;
        }
        return api;
    }
}

/// <summary>nvmlUtilization_t: percent of the last sample period.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlUtilization
{
    public uint Gpu;
    public uint Memory;
}

/// <summary>nvmlBAR1Memory_t, bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlBar1Memory
{
    public ulong Total;
    public ulong Free;
    public ulong Used;
}

/// <summary>Enum values of nvml.h the telemetry calls pass.</summary>
internal static class NvmlTelemetryCodes
{
    public const int TemperatureGpu = 0;           // NVML_TEMPERATURE_GPU
    public const int ClockSm = 1, ClockMem = 2;    // NVML_CLOCK_SM, NVML_CLOCK_MEM
    public const int PcieTx = 0, PcieRx = 1;       // NVML_PCIE_UTIL_TX_BYTES, _RX_BYTES
    public const int ErrorUncorrected = 1;         // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
    public const int VolatileEcc = 0;              // NVML_VOLATILE_ECC
    public const int LocationL1 = 0, LocationL2 = 1, LocationDeviceMemory = 2;
    public const int ProcessNameBuffer = 64;       // what libnvidia-container and the original plugin use
}

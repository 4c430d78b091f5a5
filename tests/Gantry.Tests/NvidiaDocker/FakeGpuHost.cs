using Gantry.Discovery;
using Gantry.NvidiaDocker;

namespace Gantry.Tests.NvidiaDocker;

/// <summary>Two A100s (one busy, with full telemetry; one that reports almost nothing), or as configured.</summary>
internal sealed class FakeGpuHost : IGpuHost
{
    public string DriverVersion { get; init; } = "550.54.15";
    public string CudaVersion { get; init; } = "12.4";
    public IReadOnlyList<HostGpu> Gpus { get; init; } = DefaultGpus();
    public IReadOnlyList<DeviceNode> ControlDevices { get; init; } =
        [new("/dev/nvidiactl", "/dev/nvidiactl"), new("/dev/nvidia-uvm", "/dev/nvidia-uvm"), new("/dev/nvidia-uvm-tools", "/dev/nvidia-uvm-tools")];
    public Func<int, GpuStatus> Reading { get; init; } = DefaultStatus;

    public GpuStatus Status(int index) => Reading(index);

    public static GpuInfo Info(int index, string uuid, string busId, int? minor = null) => new()
    {
        Index = index, Minor = minor ?? index, Uuid = uuid, BusId = busId, Name = "NVIDIA A100-SXM4-40GB", Brand = "tesla",
        ComputeCapability = "8.0", MemoryBytes = 40960UL << 20,
    };

    static IReadOnlyList<HostGpu> DefaultGpus() =>
    [
        new(Info(0, "GPU-11111111-2222-3333-4444-555555555555", "00000000:07:00.0"),
            new GpuDetails { PowerLimitMilliwatts = 400_000, MaxSmClockMhz = 1410, MaxMemoryClockMhz = 1215, Bar1TotalBytes = 64UL << 30,
                PcieMaxGeneration = 4, PcieMaxWidth = 16, Cores = 6912, MemoryBusWidthBits = 5120, EccEnabled = true },
            new DeviceNode("/dev/nvidia0", "/dev/nvidia0"), 1, [new GpuPeer("00000000:0f:00.0", GpuTopologyLevel.SingleSwitch)]),
        new(Info(1, "GPU-66666666-7777-8888-9999-000000000000", "00000000:0f:00.0") with { ComputeCapability = null, Name = null },
            GpuDetails.None, new DeviceNode("/dev/nvidia1", "/dev/nvidia1"), 0, []),
    ];

    static GpuStatus DefaultStatus(int index) => index == 0
        ? new GpuStatus
        {
            PowerMilliwatts = 123_456, TemperatureCelsius = 61, UtilizationGpuPercent = 87, UtilizationMemoryPercent = 40, EncoderPercent = 0,
            DecoderPercent = 3, MemoryUsedBytes = 5000UL << 20, MemoryTotalBytes = 40960UL << 20, SmClockMhz = 1275, MemoryClockMhz = 1215,
            Bar1UsedBytes = 33UL << 20, PcieRxKilobytesPerSecond = 2_500_000, PcieTxKilobytesPerSecond = 640, EccErrorsL1 = 0, EccErrorsL2 = 1,
            EccErrorsMemory = 2, Processes = [new GpuProcess(4242, "python3", 2048UL << 20), new GpuProcess(4343, "trainer", 1UL << 20)],
        }
        : new GpuStatus();
}

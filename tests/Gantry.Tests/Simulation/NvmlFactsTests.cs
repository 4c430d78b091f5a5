using Gantry.Discovery;
using Gantry.Simulation;

namespace Gantry.Tests.Simulation;

public sealed class NvmlFactsTests
{
    static NvmlSnapshot Snapshot(params GpuInfo[] gpus) => new() { DriverVersion = "550.54.15", CudaDriverVersion = 12040, Gpus = gpus };

    [Fact]
    public void Facts_are_one_key_value_per_line_with_records_for_GPUs_and_MIG_devices()
    {
        var gpu = new GpuInfo
        {
            Index = 0, Minor = 0, Uuid = "GPU-1", BusId = "0000:3B:00.0", Name = "NVIDIA A100-SXM4-40GB", Brand = "Tesla",
            ComputeCapability = "8.0", MemoryBytes = 42949672960, MigEnabled = true,
            MigDevices = [new MigInfo { ParentIndex = 0, Index = 0, Uuid = "MIG-1", GpuInstanceId = 1, ComputeInstanceId = 0, Profile = "1g.5gb", MemoryBytes = 5368709120 }],
        };
        var text = NvmlFacts.Format(Snapshot(gpu), new Dictionary<int, NvmlGpuExtras> { [0] = new() { PciDeviceId = 0x20B010DE } });

        var expected = """
            # Gantry simulated NVML facts, read by the NVML stand-in (gantry-nvml-standin.so).
            version 1
            driver 550.54.15
            cuda 12040

            gpu
            uuid GPU-1
            minor 0
            bus-id 00000000:3b:00.0
            pci-device-id 0x20B010DE
            name NVIDIA A100-SXM4-40GB
            brand tesla
            cc 8.0
            memory-total 42949672960
            mig-capable 1
            mig-mode 1
            mig
            uuid MIG-1
            gi 1
            ci 0
            profile 1g.5gb
            memory-total 5368709120

            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Facts_NVML_could_not_report_are_refused()
    {
        var ok = new GpuInfo { Index = 0, Minor = 0, Uuid = "GPU-1", BusId = "00000000:01:00.0" };
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { Index = 1 })));
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { Name = "two\nlines" })));
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { Brand = "radeon" })));
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { BusId = "pci0" })));
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { Minor = -1 })));
        var mig = new MigInfo { ParentIndex = 0, Index = 0, Uuid = "MIG-1", GpuInstanceId = 1, ComputeInstanceId = 0 };
        Assert.Throws<ArgumentException>(() => NvmlFacts.Format(Snapshot(ok with { MigDevices = [mig] })));
    }
}

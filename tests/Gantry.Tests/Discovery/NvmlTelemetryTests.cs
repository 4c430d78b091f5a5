using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Simulation;
using Gantry.Tests.Simulation;

namespace Gantry.Tests.Discovery;

// Live readings through Gantry's binding against the NVML stand-in: the facts file's ranges, frozen time
// (GANTRY_NVML_TIME) for repeatable values, and NOT_SUPPORTED as null when a fact is absent.
[Collection(NvmlStandIn.Collection)]
public sealed partial class NvmlTelemetryTests : IDisposable
{
    readonly TempDirectory _dir = new();
    public void Dispose()
    {
        FreezeClock(null);
        _dir.Dispose();
    }

    // The stand-in reads the C environment (getenv); .NET's copy of the environment is not guaranteed to reach it,
    // and when it did not, both readings came from the same instant now and then: set both.
    static void FreezeClock(string? seconds)
    {
        Environment.SetEnvironmentVariable("GANTRY_NVML_TIME", seconds);
        Assert.Equal(0, seconds is null ? UnsetEnv("GANTRY_NVML_TIME") : SetEnv("GANTRY_NVML_TIME", seconds, 1));
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int UnsetEnv(string name);

    static NvmlSnapshot Snapshot() => new()
    {
        DriverVersion = "550.54.15", CudaDriverVersion = 12040,
        Gpus =
        [
            new GpuInfo { Index = 0, Minor = 0, Uuid = "GPU-a", BusId = "00000000:07:00.0", Name = "NVIDIA A100-SXM4-40GB", MemoryBytes = 40UL << 30 },
            new GpuInfo { Index = 1, Minor = 1, Uuid = "GPU-b", BusId = "00000000:0f:00.0", Name = "NVIDIA A100-SXM4-40GB", MemoryBytes = 40UL << 30 },
        ],
    };

    NvmlSession Open(bool telemetryOnFirst = true)
    {
        var snapshot = Snapshot();
        var extras = new Dictionary<int, NvmlGpuExtras>();
        if (telemetryOnFirst) extras[0] = new NvmlGpuExtras { Telemetry = SimulatedTelemetry.For(snapshot.Gpus[0]) };
        var lib = NvmlStandIn.Install(_dir.Path, snapshot, extras);
        NvmlFacts.Write(Path.Combine(_dir.Path, NvmlFacts.FileName), snapshot, extras, SimulatedTelemetry.Topology(snapshot));
        Assert.True(NvmlSession.TryOpen(lib, out var session, out var error), error);
        return session;
    }

    [NvmlFact]
    public void Readings_stay_in_their_ranges_and_limits_are_constant()
    {
        using var nvml = Open();
        var d = nvml.Details(0);
        Assert.Equal((400_000u, 1410u, 1215u, 64UL << 30, 4u, 16u, 6912u, 5120u, true),
            (d.PowerLimitMilliwatts, d.MaxSmClockMhz, d.MaxMemoryClockMhz, d.Bar1TotalBytes, d.PcieMaxGeneration, d.PcieMaxWidth, d.Cores, d.MemoryBusWidthBits, d.EccEnabled));
        for (var i = 0; i < 20; i++)
        {
            var s = nvml.Status(0);
            Assert.InRange(s.PowerMilliwatts!.Value, 55_000u, 320_000u);
            Assert.InRange(s.TemperatureCelsius!.Value, 29u, 74u);
            Assert.InRange(s.UtilizationGpuPercent!.Value, 0u, 100u);
            Assert.InRange(s.SmClockMhz!.Value, 210u, 1410u);
            Assert.InRange(s.MemoryUsedBytes!.Value, 3UL << 30, 9UL << 30);
            Assert.Equal(40UL << 30, s.MemoryTotalBytes);
            Assert.Equal((0ul, 0ul, 0ul), (s.EccErrorsL1!.Value, s.EccErrorsL2!.Value, s.EccErrorsMemory!.Value));
            Assert.Equal([new GpuProcess(4242, "python3", 2UL << 30)], s.Processes!);
        }
    }

    [NvmlFact]
    public void A_frozen_clock_gives_the_same_reading_and_time_moves_it()
    {
        using var nvml = Open();
        FreezeClock("1700000000");
        var a = nvml.Status(0);
        Assert.Equal(a, nvml.Status(0) with { Processes = a.Processes });
        FreezeClock("1700000003.5");
        var b = nvml.Status(0);
        Assert.NotEqual((a.PowerMilliwatts, a.SmClockMhz, a.PcieRxKilobytesPerSecond), (b.PowerMilliwatts, b.SmClockMhz, b.PcieRxKilobytesPerSecond));
    }

    [NvmlFact]
    public void A_GPU_without_telemetry_facts_reports_nothing_rather_than_failing()
    {
        using var nvml = Open(telemetryOnFirst: false);
        Assert.Equal(GpuDetails.None, nvml.Details(1));
        var s = nvml.Status(1);
        Assert.Null(s.PowerMilliwatts);
        Assert.Empty(s.Processes!);
        Assert.Equal(0UL, s.MemoryUsedBytes);
    }

    [NvmlFact]
    public void Topology_comes_from_the_facts()
    {
        using var nvml = Open();
        Assert.Equal(GpuTopologyLevel.SingleSwitch, nvml.Topology(0, 1));
        Assert.Equal(GpuTopologyLevel.SingleSwitch, nvml.Topology(1, 0));
        Assert.Equal(GpuTopologyLevel.Internal, nvml.Topology(0, 0));
    }
}

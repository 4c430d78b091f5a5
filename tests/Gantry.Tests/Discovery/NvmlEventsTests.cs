using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Simulation;
using Gantry.Tests.Simulation;

namespace Gantry.Tests.Discovery;

/// <summary>NVML's event API as the stand-in serves it from the events file beside its facts (what the device
/// plugin's health watcher waits on), and GPU_IS_LOST between "lost" and "back".</summary>
[Collection(NvmlStandIn.Collection)]
public sealed class NvmlEventsTests : IDisposable
{
    readonly string _dir = NvmlStandIn.NewTempDir();
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    NvmlSession Open()
    {
        var snapshot = new NvmlSnapshot
        {
            DriverVersion = "550.54.15", CudaDriverVersion = 12040,
            Gpus =
            [
                new GpuInfo { Index = 0, Minor = 0, Uuid = "GPU-a", BusId = "00000000:07:00.0", Name = "NVIDIA A100-SXM4-40GB", MemoryBytes = 40UL << 30 },
                new GpuInfo { Index = 1, Minor = 1, Uuid = "GPU-b", BusId = "00000000:0f:00.0", Name = "NVIDIA A100-SXM4-40GB", MemoryBytes = 40UL << 30 },
            ],
        };
        var lib = NvmlStandIn.Install(_dir, snapshot);
        Assert.True(NvmlSession.TryOpen(lib, out var session, out var error), error);
        return session;
    }

    void Append(string line) => File.AppendAllText(Path.Combine(_dir, SimulatedEvents.FileName), line + "\n");

    [NvmlFact]
    public void Xid_ecc_and_lost_events_arrive_for_their_gpu_and_a_lost_gpu_answers_gpu_is_lost_until_back()
    {
        using var nvml = Open();
        Append("xid 0 48"); // before the set exists: history, not an event for it
        using var set = nvml.CreateEventSet(NvmlEvent.XidCritical | NvmlEvent.DoubleBitEcc, out var error);
        Assert.NotNull(set);
        Assert.Empty(set.NotRegistered);
        Assert.Null(set.Wait(20, out var code));
        Assert.Equal(NvmlEventSet.Timeout, code);

        Append("xid 1 79");
        Append("ecc 0 single"); // not registered for: skipped
        Append("ecc 0 double");
        Append("xid 1 31 3 0");
        Assert.Equal(new NvmlEvent(1, NvmlEvent.XidCritical, 79, null, null), set.Wait(500, out _));
        Assert.Equal(new NvmlEvent(0, NvmlEvent.DoubleBitEcc, 0, null, null), set.Wait(500, out _));
        Assert.Equal(new NvmlEvent(1, NvmlEvent.XidCritical, 31, 3, 0), set.Wait(500, out _));

        Assert.Equal(0, nvml.Probe(1));
        Append("lost 1");
        Assert.Equal(new NvmlEvent(1, NvmlEvent.XidCritical, 79, null, null), set.Wait(500, out _));
        Assert.Equal(NvmlEventSet.GpuIsLost, nvml.Probe(1));
        Assert.Equal(0, nvml.Probe(0));
        Append("back 1");
        Assert.Equal(0, nvml.Probe(1));
        Assert.Null(set.Wait(20, out _));
    }
}

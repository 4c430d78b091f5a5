using System.Globalization;
using System.Text;
using Gantry.Discovery;

namespace Gantry.NvidiaDocker;

// /gpu/status and /gpu/status/json: one live reading per GPU in the original's units (W, °C, %, MiB, MHz, MB/s).
internal sealed record GpuStatusReport(IReadOnlyList<GpuStatusDevice> Devices)
{
    const ulong MiB = 1 << 20;

    public static GpuStatusReport From(IGpuHost host) =>
        new(Enumerable.Range(0, host.Gpus.Count).Select(i => Device(host.Status(i))).ToList());

    static GpuStatusDevice Device(GpuStatus s) => new()
    {
        Power = s.PowerMilliwatts / 1000,
        Temperature = s.TemperatureCelsius,
        Utilization = new GpuUtilization(s.UtilizationGpuPercent, s.UtilizationMemoryPercent, s.EncoderPercent, s.DecoderPercent),
        Memory = new GpuMemoryStatus(s.MemoryUsedBytes / MiB, new GpuEccErrors(s.EccErrorsL1, s.EccErrorsL2, s.EccErrorsMemory)),
        Clocks = new GpuClocks(s.SmClockMhz, s.MemoryClockMhz),
        PCI = new GpuPciStatus(s.Bar1UsedBytes / MiB, new GpuThroughput(s.PcieRxKilobytesPerSecond / 1000, s.PcieTxKilobytesPerSecond / 1000)),
        // No process is written as null, as the original's nil slice was.
        Processes = s.Processes is { Count: > 0 } p ? p.Select(x => new GpuProcessStatus(x.Pid, x.Name, x.UsedMemoryBytes / MiB)).ToList() : null,
    };

    /// <summary>The text report; limits (power, memory, BAR1) come from /gpu/info's devices.</summary>
    public string ToText(GpuInfoReport info)
    {
        var t = new StringBuilder();
        for (var i = 0; i < Devices.Count; i++)
        {
            var s = Devices[i];
            var d = info.Devices[i];
            t.Append("\n\tDevice #").Append(i.ToString(CultureInfo.InvariantCulture));
            Row(t, "  Power:  ", s.Power is { } p && d.Power is { } limit ? $"{p} / {limit} W" : "N/A");
            Row(t, "  Temperature:  ", Text.With(s.Temperature, " °C"));
            t.Append("\n\t  Utilization");
            Row(t, "    GPU:  ", Text.With(s.Utilization.GPU, " %"));
            Row(t, "    Memory:  ", Text.With(s.Utilization.Memory, " %"));
            Row(t, "    Encoder:  ", Text.With(s.Utilization.Encoder, " %"));
            Row(t, "    Decoder:  ", Text.With(s.Utilization.Decoder, " %"));
            t.Append("\n\t  Memory");
            Row(t, "    Global:  ", s.Memory.GlobalUsed is { } used && d.Memory.Global is { } total ? $"{used} / {total} MiB" : "N/A");
            t.Append("\n\t    ECC Errors");
            Row(t, "      L1 Cache:  ", Text.Or(s.Memory.ECCErrors.L1Cache));
            Row(t, "      L2 Cache:  ", Text.Or(s.Memory.ECCErrors.L2Cache));
            Row(t, "      Global:  ", Text.Or(s.Memory.ECCErrors.Global));
            t.Append("\n\t  PCI");
            Row(t, "    BAR1:  ", s.PCI.BAR1Used is { } bar1 && d.PCI.BAR1 is { } bar1Total ? $"{bar1} / {bar1Total} MiB" : "N/A");
            t.Append("\n\t    Throughput");
            Row(t, "      RX:  ", Text.With(s.PCI.Throughput.RX, " MB/s"));
            Row(t, "      TX:  ", Text.With(s.PCI.Throughput.TX, " MB/s"));
            t.Append("\n\t  Clocks");
            Row(t, "    Cores:  ", Text.With(s.Clocks.Cores, " MHz"));
            Row(t, "    Memory:  ", Text.With(s.Clocks.Memory, " MHz"));
            t.Append("\n\t  Processes");
            if (s.Processes is not { Count: > 0 } procs) t.Append(":  \tNone");
            else
                foreach (var proc in procs)
                {
                    Row(t, "    - PID:  ", proc.PID.ToString(CultureInfo.InvariantCulture));
                    Row(t, "      Name:  ", proc.Name);
                    Row(t, "      Memory:  ", $"{proc.MemoryUsed} MiB");
                }
            t.Append("\n\t");
        }
        t.Append("\n\t");
        return GoTabWriter.Format(t.ToString());
    }

    static void Row(StringBuilder t, string label, string value) => t.Append("\n\t").Append(label).Append('\t').Append(value);
}

internal sealed record GpuStatusDevice
{
    public uint? Power { get; init; }
    public uint? Temperature { get; init; }
    public required GpuUtilization Utilization { get; init; }
    public required GpuMemoryStatus Memory { get; init; }
    public required GpuClocks Clocks { get; init; }
    public required GpuPciStatus PCI { get; init; }
    public IReadOnlyList<GpuProcessStatus>? Processes { get; init; }
}

internal sealed record GpuUtilization(uint? GPU, uint? Memory, uint? Encoder, uint? Decoder);
internal sealed record GpuMemoryStatus(ulong? GlobalUsed, GpuEccErrors ECCErrors);
internal sealed record GpuEccErrors(ulong? L1Cache, ulong? L2Cache, ulong? Global);
internal sealed record GpuPciStatus(ulong? BAR1Used, GpuThroughput Throughput);
internal sealed record GpuThroughput(uint? RX, uint? TX);
internal sealed record GpuProcessStatus(uint PID, string Name, ulong MemoryUsed);

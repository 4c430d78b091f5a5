using System.Globalization;
using System.Text;
using Gantry.Discovery;

namespace Gantry.NvidiaDocker;

// /metrics: one live reading of every GPU in the Prometheus text exposition format (0.0.4), in base units
// (bytes, watts, hertz, ratios as percent as NVML reports them). A reading the GPU does not report is left out.
internal static class PrometheusMetrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    sealed record Family(string Name, string Help, Func<HostGpu, GpuStatus, double?> Value);

    static readonly Family[] Families =
    [
        new("nvidia_gpu_utilization_percent", "GPU (SM) utilization over the last sample period.", (_, s) => s.UtilizationGpuPercent),
        new("nvidia_gpu_memory_utilization_percent", "Time the memory controller was busy over the last sample period.", (_, s) => s.UtilizationMemoryPercent),
        new("nvidia_gpu_encoder_utilization_percent", "Video encoder utilization.", (_, s) => s.EncoderPercent),
        new("nvidia_gpu_decoder_utilization_percent", "Video decoder utilization.", (_, s) => s.DecoderPercent),
        new("nvidia_gpu_memory_used_bytes", "Frame buffer memory in use.", (_, s) => s.MemoryUsedBytes),
        new("nvidia_gpu_memory_total_bytes", "Frame buffer memory in total.", (_, s) => s.MemoryTotalBytes),
        new("nvidia_gpu_temperature_celsius", "GPU die temperature.", (_, s) => s.TemperatureCelsius),
        new("nvidia_gpu_power_watts", "Power drawn by the board.", (_, s) => s.PowerMilliwatts / 1000.0),
        new("nvidia_gpu_power_limit_watts", "Power management limit.", (g, _) => g.Details.PowerLimitMilliwatts / 1000.0),
        new("nvidia_gpu_sm_clock_hertz", "Current SM clock.", (_, s) => s.SmClockMhz * 1e6),
        new("nvidia_gpu_memory_clock_hertz", "Current memory clock.", (_, s) => s.MemoryClockMhz * 1e6),
        new("nvidia_gpu_pcie_rx_bytes_per_second", "PCIe receive throughput.", (_, s) => s.PcieRxKilobytesPerSecond * 1000.0),
        new("nvidia_gpu_pcie_tx_bytes_per_second", "PCIe transmit throughput.", (_, s) => s.PcieTxKilobytesPerSecond * 1000.0),
        new("nvidia_gpu_ecc_uncorrected_errors", "Uncorrected ECC errors in device memory since the driver loaded.", (_, s) => s.EccErrorsMemory),
        new("nvidia_gpu_processes", "Compute processes running on the GPU.", (_, s) => s.Processes?.Count),
    ];

    public static string Render(IGpuHost host)
    {
        var statuses = Enumerable.Range(0, host.Gpus.Count).Select(host.Status).ToList();
        var o = new StringBuilder();
        o.Append("# HELP nvidia_driver_info The NVIDIA driver and the CUDA version it supports.\n# TYPE nvidia_driver_info gauge\n");
        o.Append("nvidia_driver_info{version=\"").Append(Escape(host.DriverVersion)).Append("\",cuda_version=\"")
            .Append(Escape(host.CudaVersion)).Append("\"} 1\n");
        o.Append("# HELP nvidia_gpu_info A GPU of this host.\n# TYPE nvidia_gpu_info gauge\n");
        foreach (var g in host.Gpus)
            o.Append("nvidia_gpu_info{").Append(Labels(g)).Append(",model=\"").Append(Escape(g.Info.Name ?? ""))
                .Append("\",bus_id=\"").Append(Escape(g.Info.BusId)).Append("\"} 1\n");
        foreach (var f in Families)
        {
            var samples = host.Gpus.Select((g, i) => (g, v: f.Value(g, statuses[i]))).Where(x => x.v is not null).ToList();
            if (samples.Count == 0) continue;
            o.Append("# HELP ").Append(f.Name).Append(' ').Append(f.Help).Append("\n# TYPE ").Append(f.Name).Append(" gauge\n");
            foreach (var (g, v) in samples) o.Append(f.Name).Append('{').Append(Labels(g)).Append("} ").Append(Number(v!.Value)).Append('\n');
        }
        var processes = host.Gpus.SelectMany((g, i) => (statuses[i].Processes ?? []).Select(p => (g, p))).ToList();
        if (processes.Count > 0)
        {
            o.Append("# HELP nvidia_gpu_process_memory_used_bytes GPU memory used by a compute process.\n# TYPE nvidia_gpu_process_memory_used_bytes gauge\n");
            foreach (var (g, p) in processes)
                o.Append("nvidia_gpu_process_memory_used_bytes{").Append(Labels(g)).Append(",pid=\"").Append(p.Pid.ToString(CultureInfo.InvariantCulture))
                    .Append("\",process=\"").Append(Escape(p.Name)).Append("\"} ").Append(Number(p.UsedMemoryBytes)).Append('\n');
        }
        return o.ToString();
    }

    static string Labels(HostGpu g) =>
        $"gpu=\"{g.Info.Index.ToString(CultureInfo.InvariantCulture)}\",uuid=\"{Escape(g.Info.Uuid)}\"";

    static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label values escape backslash, double quote and newline.</summary>
    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}

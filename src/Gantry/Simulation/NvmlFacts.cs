using System.Globalization;
using System.Text;
using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Host;

namespace Gantry.Simulation;

/// <summary>Per-GPU facts the NVML stand-in reports that <see cref="GpuInfo"/> does not carry.</summary>
internal sealed record NvmlGpuExtras
{
    /// <summary>MIG-capable even while MIG is disabled (A100/H100). A GPU with MIG enabled is capable anyway.</summary>
    public bool MigCapable { get; init; }
    /// <summary>nvmlDeviceGetMaxMigDeviceCount while MIG is enabled; the stand-in defaults to 7.</summary>
    public int? MaxMigDevices { get; init; }
    /// <summary>nvmlPciInfo_t.pciDeviceId: device id &lt;&lt; 16 | vendor id (0x10de).</summary>
    public uint? PciDeviceId { get; init; }
    public uint? PciSubsystemId { get; init; }
    public ulong? MemoryUsedBytes { get; init; }
    /// <summary>Power, clocks, PCIe, ECC, processes (nvml.c's telemetry keys); none when null.</summary>
    public GpuTelemetryFacts? Telemetry { get; init; }
}

/// <summary>How NVML starts: with persistence off, nvmlInit takes <see cref="InitDelayMs"/> (opening every GPU).</summary>
internal readonly record struct NvmlStartup(bool Persistence, int InitDelayMs);

/// <summary>
/// Writes the facts file the NVML stand-in (native/nvml-standin/nvml.c) answers from. It lives next to the
/// stand-in library as <see cref="FileName"/>. Format version 1, one "key value" per line, the value being the
/// rest of the line; '#' lines and unknown keys are ignored by the reader, so facts can be added later:
/// <code>
/// version 1
/// driver 550.54.15
/// cuda 12040
/// gpu                              (starts a GPU; NVML index = order)
/// uuid GPU-…   minor 0   bus-id 00000000:01:00.0   pci-device-id 0x20B010DE   pci-subsystem-id 0x134F10DE
/// name NVIDIA A100-SXM4-40GB   brand tesla   cc 8.0   memory-total 42949672960   memory-used 0
/// mig-capable 1   mig-mode 1   max-mig 7   addressing-mode 2
/// mig                              (starts a MIG device of the last GPU; its index = order under it)
/// uuid MIG-…   gi 1   ci 0   profile 1g.5gb   memory-total 5368709120
/// </code>
/// (Each key above is on its own line in the file.) nvml.c's header comment is the full reference.
/// </summary>
internal static class NvmlFacts
{
    public const string FileName = "gantry-nvml-facts.txt";
    public const int FormatVersion = 1;

    public static void Write(string path, NvmlSnapshot snapshot, IReadOnlyDictionary<int, NvmlGpuExtras>? extras = null,
        IReadOnlyList<GpuTopologyFact>? topology = null, NvmlStartup? startup = null) =>
        AtomicFile.WriteText(path, Format(snapshot, extras, topology, startup));

    /// <summary>The file's text. Throws ArgumentException for facts NVML could not report (gaps in indices, newlines, …).</summary>
    public static string Format(NvmlSnapshot snapshot, IReadOnlyDictionary<int, NvmlGpuExtras>? extras = null,
        IReadOnlyList<GpuTopologyFact>? topology = null, NvmlStartup? startup = null)
    {
        var w = new Writer();
        w.Comment("Gantry simulated NVML facts, read by the NVML stand-in (gantry-nvml-standin.so).");
        w.Line("version", FormatVersion);
        w.Line("driver", snapshot.DriverVersion);
        w.Line("cuda", snapshot.CudaDriverVersion);
        if (startup is { } st)
        {
            w.Line("persistence", st.Persistence ? 1 : 0);
            w.Line("init-delay-ms", st.InitDelayMs);
        }
        foreach (var t in topology ?? [])
        {
            if (t.A < 0 || t.B < 0 || t.A >= snapshot.Gpus.Count || t.B >= snapshot.Gpus.Count)
                throw new ArgumentException($"topology names GPU {t.A} and {t.B}, but there are {snapshot.Gpus.Count}");
            w.Line("topology", FormattableString.Invariant($"{t.A} {t.B} {(int)t.Level}"));
        }

        var gpus = snapshot.Gpus.OrderBy(g => g.Index).ToList();
        for (var i = 0; i < gpus.Count; i++)
        {
            var gpu = gpus[i];
            if (gpu.Index != i) throw new ArgumentException($"GPU indices must be 0..{gpus.Count - 1}; found {gpu.Index}");
            var extra = extras is not null && extras.TryGetValue(i, out var e) ? e : new NvmlGpuExtras();
            w.Blank();
            w.Record("gpu");
            w.Line("uuid", gpu.Uuid);
            w.Line("minor", gpu.Minor);
            w.Line("bus-id", NvmlBusId.Normalize(gpu.BusId) ?? throw new ArgumentException($"GPU {i}: bad PCI bus id '{gpu.BusId}'"));
            if (extra.PciDeviceId is { } pciId) w.Line("pci-device-id", Hex(pciId));
            if (extra.PciSubsystemId is { } subsystem) w.Line("pci-subsystem-id", Hex(subsystem));
            w.Line("name", gpu.Name);
            if (gpu.Brand is not null && !NvmlBrand.TryParse(gpu.Brand, out _))
                throw new ArgumentException($"GPU {i}: unknown brand '{gpu.Brand}'");
            w.Line("brand", gpu.Brand?.ToLowerInvariant());
            w.Line("cc", gpu.ComputeCapability);
            w.Line("memory-total", gpu.MemoryBytes);
            if (extra.Telemetry?.MemoryUsed is null) w.Line("memory-used", extra.MemoryUsedBytes);
            w.Line("mig-capable", gpu.MigEnabled || extra.MigCapable || gpu.MigDevices.Count > 0 ? 1 : 0);
            w.Line("mig-mode", gpu.MigEnabled ? 1 : 0);
            w.Line("max-mig", extra.MaxMigDevices);
            if (gpu.AddressingMode is >= 0 and var addressing) w.Line("addressing-mode", addressing);
            foreach (var (key, value) in extra.Telemetry?.Lines() ?? []) w.Line(key, value);
            WriteMigs(w, gpu);
        }
        return w.ToString();
    }

    static void WriteMigs(Writer w, GpuInfo gpu)
    {
        var migs = gpu.MigDevices.OrderBy(m => m.Index).ToList();
        if (migs.Count > 0 && !gpu.MigEnabled)
            throw new ArgumentException($"GPU {gpu.Index} has MIG devices but MIG is disabled");
        for (var j = 0; j < migs.Count; j++)
        {
            var mig = migs[j];
            if (mig.Index != j) throw new ArgumentException($"GPU {gpu.Index}: MIG indices must be 0..{migs.Count - 1}; found {mig.Index}");
            w.Record("mig");
            w.Line("uuid", mig.Uuid);
            w.Line("gi", mig.GpuInstanceId);
            w.Line("ci", mig.ComputeInstanceId);
            w.Line("profile", mig.Profile);
            w.Line("memory-total", mig.MemoryBytes);
        }
    }

    static string Hex(uint value) => "0x" + value.ToString("X8", CultureInfo.InvariantCulture);

    sealed class Writer
    {
        readonly StringBuilder text = new();

        public void Comment(string comment) => text.Append("# ").Append(comment).Append('\n');
        public void Blank() => text.Append('\n');

        /// <summary>"gpu" or "mig": starts a record; the keys after it describe that device.</summary>
        public void Record(string key) => text.Append(key).Append('\n');

        public void Line(string key, long? value)
        {
            if (value is not { } v) return;
            if (v < 0) throw new ArgumentException($"NVML fact '{key}' must not be negative, got {v}");
            Line(key, v.ToString(CultureInfo.InvariantCulture));
        }

        public void Line(string key, ulong? value)
        {
            if (value is { } v) Line(key, v.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>A null value omits the line: the stand-in then answers NOT_SUPPORTED or its default.</summary>
        public void Line(string key, string? value)
        {
            if (value is null) return;
            var v = value.Trim();
            if (v.Length == 0 || v.AsSpan().ContainsAny('\n', '\r', '\0'))
                throw new ArgumentException($"NVML fact '{key}' must be one non-empty line, got '{value}'");
            text.Append(key).Append(' ').Append(v).Append('\n');
        }

        public override string ToString() => text.ToString();
    }
}

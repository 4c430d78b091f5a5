using Gantry.Host;

namespace Gantry.Discovery;

// What the kernel module tells through /proc/driver/nvidia when NVML cannot be used: the driver version
// and, per GPU, model, UUID, bus location and minor. Compute capability, memory, brand and MIG stay unknown.
internal static class ProcDriver
{
    public static string? DriverVersion(HostRoots roots)
    {
        var path = roots.InProc("driver/nvidia/version");
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path);
        var m = System.Text.RegularExpressions.Regex.Match(text, @"Kernel Module\s+(?:for\s+\S+\s+)?(\d+\.\d+(?:\.\d+)?)");
        return m.Success ? m.Groups[1].Value : null;
    }

    public static List<GpuInfo> Gpus(HostRoots roots)
    {
        var dir = roots.InProc("driver/nvidia/gpus");
        if (!Directory.Exists(dir)) return new();
        var raw = new List<(string Bus, string Model, string Uuid, int Minor)>();
        foreach (var gpuDir in Directory.EnumerateDirectories(dir))
        {
            var info = Path.Combine(gpuDir, "information");
            if (!File.Exists(info)) continue;
            var fields = ParseFields(File.ReadAllLines(info));
            if (!fields.TryGetValue("Device Minor", out var minorText) || !int.TryParse(minorText, out var minor)) continue;
            raw.Add((fields.GetValueOrDefault("Bus Location") ?? Path.GetFileName(gpuDir), fields.GetValueOrDefault("Model") ?? "",
                fields.GetValueOrDefault("GPU UUID") ?? "", minor));
        }
        // NVML enumerates in PCI order; so do we, so that indexes agree with NVML's on the same host.
        return raw.OrderBy(r => r.Bus, StringComparer.OrdinalIgnoreCase).Select((r, i) => new GpuInfo
        {
            Index = i, Minor = r.Minor, Uuid = r.Uuid, BusId = LongBusId(r.Bus), Name = r.Model.Length > 0 ? r.Model : null,
        }).ToList();
    }

    /// <summary>"Key: \t value" lines as the module prints them.</summary>
    public static Dictionary<string, string> ParseFields(IEnumerable<string> lines)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon > 0) d[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return d;
    }

    /// <summary>The 8-hex-digit-domain form Gantry uses everywhere (lower case): "0000:07:00.0" → "00000000:07:00.0".</summary>
    public static string LongBusId(string bus) =>
        (bus.Count(c => c == ':') == 2 && bus.IndexOf(':') == 4 ? "0000" + bus : bus).ToLowerInvariant();

    /// <summary>The form sysfs and procfs directories use: "0000:07:00.0".</summary>
    public static string ShortBusId(string nvmlBusId) =>
        (nvmlBusId.Length == 16 && nvmlBusId.StartsWith("0000", StringComparison.Ordinal) ? nvmlBusId[4..] : nvmlBusId).ToLowerInvariant();

    /// <summary>/proc/driver/nvidia-caps/mig-minors: "gpu0/gi7/access 66" lines.</summary>
    public static Dictionary<string, int> MigMinors(HostRoots roots)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = roots.InProc("driver/nvidia-caps/mig-minors");
        if (!File.Exists(path)) return d;
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[1], out var minor)) d[parts[0]] = minor;
        }
        return d;
    }
}

using System.Globalization;
using Gantry.Discovery;

namespace Gantry.DevicePlugin;

// The labels gpu-feature-discovery gives a node, by upstream's names, in name order.
internal static class GpuLabels
{
    const string P = "nvidia.com/";

    public static SortedDictionary<string, string> For(NvmlSnapshot nvml, PluginSettings s, string? machine, long? timestamp)
    {
        var l = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var gpus = nvml.Gpus;
        var driver = nvml.DriverVersion.Split('.');
        string Part(int i) => i < driver.Length ? driver[i] : "0";
        l[P + "cuda.driver.major"] = l[P + "cuda.driver-version.major"] = Part(0);
        l[P + "cuda.driver.minor"] = l[P + "cuda.driver-version.minor"] = Part(1);
        l[P + "cuda.driver.rev"] = l[P + "cuda.driver-version.revision"] = Part(2);
        l[P + "cuda.driver-version.full"] = nvml.DriverVersion;
        var (cudaMajor, cudaMinor) = (nvml.CudaDriverVersion / 1000, nvml.CudaDriverVersion % 1000 / 10);
        l[P + "cuda.runtime.major"] = l[P + "cuda.runtime-version.major"] = I(cudaMajor);
        l[P + "cuda.runtime.minor"] = l[P + "cuda.runtime-version.minor"] = I(cudaMinor);
        l[P + "cuda.runtime-version.full"] = $"{cudaMajor}.{cudaMinor}";
        l[P + "mig.strategy"] = s.MigStrategy.ToString().ToLowerInvariant();
        l[P + "mps.capable"] = "false";
        if (machine is { Length: > 0 }) l[P + "gpu.machine"] = Sanitize(machine);
        if (timestamp is { } t) l[P + "gfd.timestamp"] = t.ToString(CultureInfo.InvariantCulture);
        if (gpus.Count == 0) return l;

        var first = gpus[0];
        l[P + "mig.capable"] = gpus.Any(g => g.MigEnabled) ? "true" : "false";
        var resources = ResourceBuilder.Build(gpus, s, _ => null);
        var gpuResource = resources.FirstOrDefault(r => r.Name.StartsWith(ResourceBuilder.GpuResource, StringComparison.Ordinal));
        var singleMig = s.MigStrategy == MigStrategy.Single && gpus.Any(g => g.MigEnabled);
        var product = Sanitize(first.Name ?? "unknown");
        var firstMig = gpus.SelectMany(g => g.MigDevices).FirstOrDefault();
        if (singleMig && firstMig is not null)
        {
            l[P + "gpu.product"] = $"{product}-MIG-{firstMig.Profile}";
            l[P + "gpu.count"] = I(gpus.Sum(g => g.MigDevices.Count));
            if (firstMig.MemoryBytes is { } mm) l[P + "gpu.memory"] = I((long)(mm >> 20));
        }
        else
        {
            l[P + "gpu.product"] = product;
            l[P + "gpu.count"] = I(gpus.Count);
            if (first.MemoryBytes is { } m) l[P + "gpu.memory"] = I((long)(m >> 20));
        }
        l[P + "gpu.mode"] = "compute";
        Sharing(l, "gpu", gpuResource);
        if (first.ComputeCapability?.Split('.') is [var major, var minor])
        {
            l[P + "gpu.compute.major"] = major;
            l[P + "gpu.compute.minor"] = minor;
            l[P + "gpu.family"] = Family(int.Parse(major, CultureInfo.InvariantCulture), int.Parse(minor, CultureInfo.InvariantCulture));
        }
        if (s.MigStrategy == MigStrategy.Mixed)
            foreach (var group in gpus.SelectMany(g => g.MigDevices).GroupBy(m => m.Profile ?? "unknown"))
            {
                var name = $"mig-{group.Key}";
                l[$"{P}{name}.count"] = I(group.Count());
                if (group.First().MemoryBytes is { } mm) l[$"{P}{name}.memory"] = I((long)(mm >> 20));
                l[$"{P}{name}.product"] = $"{product}-MIG-{group.Key}";
                if (group.Key.Split('.')[0] is var slices && slices.EndsWith('g') && int.TryParse(slices[..^1], out var gi))
                {
                    l[$"{P}{name}.slices.gi"] = I(gi);
                    l[$"{P}{name}.slices.ci"] = I(gi);
                }
                Sharing(l, name, resources.FirstOrDefault(r => r.Name.StartsWith(P + name, StringComparison.Ordinal)));
            }
        return l;
    }

    static void Sharing(SortedDictionary<string, string> l, string name, PluginResource? r)
    {
        var physical = r is null ? 0 : r.Devices.Select(d => d.Uuid).Distinct().Count();
        var replicas = r is { Shared: true } && physical > 0 ? r.Devices.Count / physical : 1;
        l[$"{P}{name}.replicas"] = I(replicas);
        l[$"{P}{name}.sharing-strategy"] = r is { Shared: true } ? "time-slicing" : "none";
    }

    // Upstream's architecture names by compute capability.
    static string Family(int major, int minor) => major switch
    {
        < 3 => "undefined", 3 => "kepler", 5 => "maxwell", 6 => "pascal",
        7 => minor < 5 ? "volta" : "turing",
        8 => minor < 9 ? "ampere" : "ada-lovelace",
        9 => "hopper", 10 or 12 => "blackwell", _ => "undefined",
    };

    static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    // Label values: letters, digits, '-', '_', '.'; spaces become '-' as upstream writes "NVIDIA-A100-SXM4-40GB".
    static string Sanitize(string v)
    {
        var chars = v.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray();
        var text = new string(chars).Trim('-', '_', '.');
        return text.Length > 63 ? text[..63] : text;
    }
}

using Gantry.Discovery;

namespace Gantry.DevicePlugin;

/// <summary>
/// One device the plugin advertises: a GPU or a MIG device, or one time-slicing replica of one
/// (<c>&lt;id&gt;::&lt;n&gt;</c>). <see cref="RuntimeId"/> is what the container runtime is told (UUID or index);
/// <see cref="Uuid"/> keys health.
/// </summary>
internal sealed record PluginDevice(string Id, string RuntimeId, string Uuid, string Index, GpuInfo Gpu, MigInfo? Mig, long? NumaNode, int Replica)
{
    public bool IsReplica => Id != RuntimeId;
}

/// <summary>An extended resource (e.g. nvidia.com/gpu) and the devices it offers.</summary>
internal sealed record PluginResource(string Name, IReadOnlyList<PluginDevice> Devices, bool Shared)
{
    /// <summary>The socket's file name in the kubelet's directory: nvidia-gpu.sock, nvidia-mig-1g.5gb.sock.</summary>
    public string SocketName => "nvidia-" + (Name.StartsWith("nvidia.com/", StringComparison.Ordinal) ? Name["nvidia.com/".Length..] : Name).Replace('/', '-') + ".sock";
}

// GPUs and MIG devices → the resources of a MIG strategy, then time-slicing replicas (upstream's rules).
internal static class ResourceBuilder
{
    public const string GpuResource = "nvidia.com/gpu";

    public static IReadOnlyList<PluginResource> Build(IReadOnlyList<GpuInfo> gpus, PluginSettings s, Func<GpuInfo, long?> numa)
    {
        var physical = new Dictionary<string, List<PluginDevice>>(StringComparer.Ordinal);
        void Add(string resource, PluginDevice d)
        {
            if (!physical.TryGetValue(resource, out var list)) physical[resource] = list = [];
            list.Add(d);
        }
        PluginDevice Whole(GpuInfo g) => Device(g.Uuid, g.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), g, null, numa(g), s);
        PluginDevice Part(GpuInfo g, MigInfo m) => Device(m.Uuid, $"{g.Index}:{m.Index}", g, m, numa(g), s);

        switch (s.MigStrategy)
        {
            case MigStrategy.None:
                foreach (var g in gpus) Add(GpuResource, Whole(g));
                break;
            case MigStrategy.Single:
                var mig = gpus.Where(g => g.MigEnabled).ToList();
                if (mig.Count == 0) { foreach (var g in gpus) Add(GpuResource, Whole(g)); break; }
                if (mig.Count != gpus.Count)
                    throw new ConfigException($"MIG strategy single needs MIG enabled on every GPU; it is off on GPU {string.Join(", ", gpus.Where(g => !g.MigEnabled).Select(g => g.Index))}");
                var profiles = mig.SelectMany(g => g.MigDevices).Select(m => m.Profile ?? "?").Distinct().ToList();
                if (profiles.Count > 1)
                    throw new ConfigException($"MIG strategy single needs one MIG profile on every GPU; found {string.Join(", ", profiles)} (use mixed)");
                if (profiles.Count == 0) throw new ConfigException("MIG strategy single: MIG is enabled but no MIG device exists");
                foreach (var g in mig) foreach (var m in g.MigDevices) Add(GpuResource, Part(g, m));
                break;
            case MigStrategy.Mixed:
                foreach (var g in gpus)
                {
                    if (!g.MigEnabled) { Add(GpuResource, Whole(g)); continue; }
                    foreach (var m in g.MigDevices)
                        Add("nvidia.com/mig-" + (m.Profile ?? throw new ConfigException($"MIG device {m.Uuid} has no profile name")), Part(g, m));
                }
                break;
        }

        var resources = new List<PluginResource>();
        foreach (var (name, devices) in physical.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var shared = s.TimeSliced.FirstOrDefault(r => r.Name == name);
            if (shared is null) { resources.Add(new PluginResource(name, devices, false)); continue; }
            var replicas = new List<PluginDevice>();
            foreach (var d in devices)
                for (var n = 0; n < shared.Replicas; n++)
                    replicas.Add(d with { Id = $"{d.RuntimeId}::{n}", Replica = n });
            var renamed = shared.Rename ?? (s.RenameByDefault ? name + ".shared" : name);
            resources.Add(new PluginResource(renamed, replicas, true));
        }
        foreach (var r in s.TimeSliced)
            if (!physical.ContainsKey(r.Name))
                throw new ConfigException($"sharing.timeSlicing names {r.Name}, which this node does not offer (it offers {string.Join(", ", physical.Keys)})");
        return resources;
    }

    static PluginDevice Device(string uuid, string index, GpuInfo g, MigInfo? m, long? numa, PluginSettings s)
    {
        var runtimeId = s.DeviceIdStrategy == DeviceIdStrategy.Uuid ? uuid : index;
        return new PluginDevice(runtimeId, runtimeId, uuid, index, g, m, numa, 0);
    }
}

using Gantry.DevicePlugin.V1Beta1;
using Gantry.Discovery;

namespace Gantry.DevicePlugin;

/// <summary>A request the plugin refuses; the gRPC layer answers InvalidArgument with the message.</summary>
internal sealed class AllocationException(string message) : Exception(message);

/// <summary>Which host device nodes a device brings (for --pass-device-specs): container path → host path.</summary>
internal interface IDeviceNodes
{
    IReadOnlyList<(string ContainerPath, string HostPath)> Control();
    IReadOnlyList<(string ContainerPath, string HostPath)> For(PluginDevice device);
}

// Allocate's answer for one container, by the device-list strategies (upstream's shapes):
//   envvar          NVIDIA_VISIBLE_DEVICES=<id,…>
//   volume-mounts   /dev/null at /var/run/nvidia-container-devices/<id>, NVIDIA_VISIBLE_DEVICES=/var/run/nvidia-container-devices
//   cdi-annotations <prefix>nvidia-device-plugin_<unique> = <kind>=<id>,…
//   cdi-cri         cdi_devices <kind>=<id>
internal sealed class AllocationAnswers(PluginResource resource, PluginSettings settings, DeviceHealth health, IDeviceNodes nodes)
{
    public const string VolumeMountRoot = "/var/run/nvidia-container-devices";
    readonly Dictionary<string, PluginDevice> _byId = resource.Devices.ToDictionary(d => d.Id, StringComparer.Ordinal);

    public string CdiKind => settings.CdiVendor + "/gpu";

    /// <summary>The devices of one container request, checked: known, healthy, no repeats, not too many.</summary>
    public IReadOnlyList<PluginDevice> Check(IReadOnlyList<string> ids)
    {
        if (ids.Count == 0) throw new AllocationException($"{resource.Name}: a container request with no device ids");
        if (ids.Count > resource.Devices.Count)
            throw new AllocationException($"{resource.Name}: {ids.Count} devices requested, but this node offers {resource.Devices.Count}");
        if (resource.Shared && settings.FailRequestsGreaterThanOne && ids.Count > 1)
            throw new AllocationException($"{resource.Name}: {ids.Count} shared devices requested, but failRequestsGreaterThanOne allows 1 per container (time-slicing gives no more GPU for more replicas)");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var devices = new List<PluginDevice>(ids.Count);
        foreach (var id in ids)
        {
            if (!_byId.TryGetValue(id, out var d))
                throw new AllocationException($"{resource.Name}: unknown device id '{id}' (not one this plugin advertised)");
            if (!seen.Add(id)) throw new AllocationException($"{resource.Name}: device id '{id}' requested twice");
            if (health.WhyUnhealthy(d.Uuid) is { } why)
                throw new AllocationException($"{resource.Name}: device '{id}' is unhealthy ({why})");
            devices.Add(d);
        }
        return devices;
    }

    public ContainerAllocateResponse Answer(IReadOnlyList<string> ids)
    {
        var devices = Check(ids);
        // Replicas of one GPU are one GPU to the runtime.
        var runtimeIds = devices.Select(d => d.RuntimeId).Distinct(StringComparer.Ordinal).ToList();
        var r = new ContainerAllocateResponse();
        var strategies = settings.DeviceListStrategies;
        if (strategies.Contains("envvar")) r.Envs["NVIDIA_VISIBLE_DEVICES"] = string.Join(",", runtimeIds);
        if (strategies.Contains("volume-mounts"))
        {
            r.Envs["NVIDIA_VISIBLE_DEVICES"] = VolumeMountRoot;
            foreach (var id in runtimeIds)
                r.Mounts.Add(new Mount { HostPath = "/dev/null", ContainerPath = $"{VolumeMountRoot}/{id}", ReadOnly = true });
        }
        if (strategies.Contains("cdi-annotations"))
            r.Annotations[$"{settings.CdiAnnotationPrefix}nvidia-device-plugin_{Guid.NewGuid():N}"] = string.Join(",", runtimeIds.Select(id => $"{CdiKind}={id}"));
        if (strategies.Contains("cdi-cri"))
            foreach (var id in runtimeIds) r.CdiDevices.Add(new CDIDevice { Name = $"{CdiKind}={id}" });
        if (settings.PassDeviceSpecs)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (container, host) in nodes.Control().Concat(devices.SelectMany(nodes.For)))
                if (seen.Add(container)) r.Devices.Add(new DeviceSpec { ContainerPath = container, HostPath = host, Permissions = "rw" });
        }
        return r;
    }
}

using Gantry.Requests;

namespace Gantry.Devices;

/// <summary>
/// Everything a container asks for, resolved once: its GPUs (RequestResolver's precedence of annotations, volume
/// mounts and environment) and a typed request per other kind that it asks for, in <see cref="DeviceKinds"/> order.
/// </summary>
internal sealed record ContainerDevices(ContainerRequest Gpus, IReadOnlyList<DeviceRequest> Others)
{
    public static ContainerDevices Resolve(ContainerFacts facts, RequestOptions options)
    {
        var mounts = options.AcceptVolumeMounts ? RequestResolver.VolumeMountRequests(facts) : [];
        bool OtherKind(string mount) => DeviceKinds.All.Any(k => k.VolumeMountPrefix is { } p && mount.StartsWith(p, StringComparison.Ordinal));
        var gpus = RequestResolver.Resolve(facts, options, mounts.Where(m => !OtherKind(m)).ToList());
        var source = new RequestSource(facts, options, mounts);
        var others = DeviceKinds.All.Select(k => new DeviceRequest(k, k.Requested(source))).Where(r => r.Ids.Count > 0).ToList();
        return new ContainerDevices(gpus, others);
    }
}

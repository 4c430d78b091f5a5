using Gantry.Common;
using Grpc.Core;
using Proto = Gantry.DevicePlugin.V1Beta1;

namespace Gantry.DevicePlugin;

// The DevicePlugin service of one resource: the kubelet's device manager calls it over the plugin's socket.
// A refused request is InvalidArgument with a message that says what was wrong; nothing here ends the process.
internal sealed class DevicePluginService(PluginResource resource, AllocationAnswers answers, PreferredAllocation preferred,
    DeviceHealth health, Log log) : Proto.DevicePlugin.DevicePluginBase
{
    CancellationTokenSource _streams = new();

    /// <summary>Ends every open ListAndWatch stream (before the server restarts or stops).</summary>
    public void EndStreams()
    {
        var old = Interlocked.Exchange(ref _streams, new CancellationTokenSource());
        old.Cancel();
        old.Dispose();
    }

    public static readonly Proto.DevicePluginOptions Options = new() { GetPreferredAllocationAvailable = true, PreStartRequired = true };

    public override Task<Proto.DevicePluginOptions> GetDevicePluginOptions(Proto.Empty request, ServerCallContext context) =>
        Task.FromResult(Options);

    public override async Task ListAndWatch(Proto.Empty request, IServerStreamWriter<Proto.ListAndWatchResponse> stream, ServerCallContext context)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _streams.Token);
        try
        {
            while (!done.IsCancellationRequested)
            {
                // Take the wake-up before reading, so a change between the two is never missed.
                var next = health.NextChange();
                await stream.WriteAsync(List(), done.Token);
                await next.WaitAsync(done.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { } // the kubelet went away
    }

    public Proto.ListAndWatchResponse List()
    {
        var response = new Proto.ListAndWatchResponse();
        foreach (var d in resource.Devices)
        {
            var device = new Proto.Device { ID = d.Id, Health = health.IsHealthy(d.Uuid) ? "Healthy" : "Unhealthy" };
            if (d.NumaNode is { } node) device.Topology = new Proto.TopologyInfo { Nodes = { new Proto.NUMANode { ID = node } } };
            response.Devices.Add(device);
        }
        return response;
    }

    public override Task<Proto.PreferredAllocationResponse> GetPreferredAllocation(Proto.PreferredAllocationRequest request, ServerCallContext context) =>
        Guard(() =>
        {
            var response = new Proto.PreferredAllocationResponse();
            foreach (var c in request.ContainerRequests)
                response.ContainerResponses.Add(new Proto.ContainerPreferredAllocationResponse
                {
                    DeviceIDs = { preferred.Choose(c.AvailableDeviceIDs, c.MustIncludeDeviceIDs, c.AllocationSize) },
                });
            return response;
        }, "GetPreferredAllocation");

    public override Task<Proto.AllocateResponse> Allocate(Proto.AllocateRequest request, ServerCallContext context) =>
        Guard(() =>
        {
            if (request.ContainerRequests.Count == 0) throw new AllocationException($"{resource.Name}: Allocate without container requests");
            var response = new Proto.AllocateResponse();
            foreach (var c in request.ContainerRequests) response.ContainerResponses.Add(answers.Answer(c.DevicesIds));
            return response;
        }, "Allocate");

    public override Task<Proto.PreStartContainerResponse> PreStartContainer(Proto.PreStartContainerRequest request, ServerCallContext context) =>
        Guard(() =>
        {
            // The last moment to refuse a device that failed since Allocate.
            answers.Check(request.DevicesIds);
            return new Proto.PreStartContainerResponse();
        }, "PreStartContainer");

    Task<T> Guard<T>(Func<T> call, string name)
    {
        try { return Task.FromResult(call()); }
        catch (AllocationException e)
        {
            log.Warning($"{name} refused: {e.Message}");
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}

using System.Collections.Concurrent;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using K = Gantry.DevicePlugin.V1Beta1;

namespace Gantry.Tests.Kubernetes;

/// <summary>
/// A test kubelet, written from the device-plugin contract: serves Registration on kubelet.sock in its directory,
/// rejects a wrong version or a non-extended resource name, dials a registered plugin back on its endpoint, asks
/// its options and keeps its ListAndWatch stream (the latest full list per resource), and allocates as the
/// device manager does: GetPreferredAllocation over the free healthy ids, Allocate, PreStartContainer.
/// Restart removes every socket in the directory and serves a new kubelet.sock.
/// </summary>
internal sealed class TestKubelet : IAsyncDisposable
{
    WebApplication? _app;
    readonly ConcurrentDictionary<string, PluginConnection> _plugins = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<K.RegisterRequest> _registrations = new();

    public string Dir { get; }
    public string Socket => Path.Combine(Dir, "kubelet.sock");
    public IReadOnlyCollection<K.RegisterRequest> Registrations => _registrations;
    public List<string> Rejections { get; } = [];

    public TestKubelet(string dir, bool start = true)
    {
        Dir = dir;
        Directory.CreateDirectory(dir);
        if (start) Start();
    }

    public void Start()
    {
        if (File.Exists(Socket)) File.Delete(Socket);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.ListenUnixSocket(Socket, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new RegistrationService(this));
        var app = builder.Build();
        app.MapGrpcService<RegistrationService>();
        app.StartAsync().GetAwaiter().GetResult();
        _app = app;
    }

    /// <summary>A kubelet restart: stop, remove every socket in the directory, serve a new kubelet.sock.</summary>
    public void Restart(TimeSpan? down = null)
    {
        StopAsync().GetAwaiter().GetResult();
        foreach (var f in Directory.GetFiles(Dir, "*.sock")) File.Delete(f);
        foreach (var p in _plugins.Values) p.Dispose();
        _plugins.Clear();
        if (down is { } d) Thread.Sleep(d);
        Start();
    }

    async Task StopAsync()
    {
        if (_app is null) return;
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(grace.Token); } catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        _app = null;
    }

    sealed class RegistrationService(TestKubelet kubelet) : K.Registration.RegistrationBase
    {
        public override Task<K.Empty> Register(K.RegisterRequest request, ServerCallContext context)
        {
            string? why = request.Version != "v1beta1" ? $"unsupported version '{request.Version}'"
                : !request.ResourceName.Contains('/') || request.ResourceName.StartsWith("kubernetes.io/", StringComparison.Ordinal)
                    ? $"'{request.ResourceName}' is not an extended resource name" : null;
            if (why is not null)
            {
                lock (kubelet.Rejections) kubelet.Rejections.Add(why);
                throw new RpcException(new Status(StatusCode.InvalidArgument, why));
            }
            kubelet._registrations.Enqueue(request);
            var endpoint = Path.Combine(kubelet.Dir, request.Endpoint);
            var connection = new PluginConnection(request.ResourceName, endpoint, request.Options);
            if (kubelet._plugins.TryGetValue(request.ResourceName, out var old)) old.Dispose();
            kubelet._plugins[request.ResourceName] = connection;
            return Task.FromResult(new K.Empty());
        }
    }

    /// <summary>The plugin that registered a resource (waits for it).</summary>
    public PluginConnection Plugin(string resource, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < until)
        {
            if (_plugins.TryGetValue(resource, out var p) && p.Devices is not null) return p;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no plugin registered {resource} (and sent its list) in time; registered: {string.Join(", ", _plugins.Keys)}");
    }

    public bool Has(string resource) => _plugins.ContainsKey(resource);

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _plugins.Values) p.Dispose();
        await StopAsync();
    }
}

/// <summary>The kubelet's side of one registered plugin: its client, its options, its latest device list.</summary>
internal sealed class PluginConnection : IDisposable
{
    readonly GrpcChannel _channel;
    readonly CancellationTokenSource _stop = new();
    readonly object _gate = new();
    readonly HashSet<string> _allocated = new(StringComparer.Ordinal);
    List<K.Device>? _devices;

    public string Resource { get; }
    public K.DevicePlugin.DevicePluginClient Client { get; }
    public K.DevicePluginOptions Options { get; }
    public int Updates { get; private set; }
    public List<K.Device>? Devices { get { lock (_gate) return _devices; } }

    public PluginConnection(string resource, string endpoint, K.DevicePluginOptions? registered)
    {
        Resource = resource;
        _channel = Channel(endpoint);
        Client = new K.DevicePlugin.DevicePluginClient(_channel);
        Options = Client.GetDevicePluginOptions(new K.Empty(), deadline: DateTime.UtcNow.AddSeconds(5));
        _ = Task.Run(Watch);
    }

    public static GrpcChannel Channel(string socket) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancel) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancel);
                    return new NetworkStream(s, ownsSocket: true);
                },
            },
        });

    async Task Watch()
    {
        try
        {
            using var call = Client.ListAndWatch(new K.Empty(), cancellationToken: _stop.Token);
            await foreach (var list in call.ResponseStream.ReadAllAsync(_stop.Token))
                lock (_gate) { _devices = list.Devices.ToList(); Updates++; }
        }
        catch (RpcException) { }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    }

    /// <summary>Waits until the latest list satisfies the condition; returns it.</summary>
    public List<K.Device> WaitFor(Func<List<K.Device>, bool> condition, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var d = Devices;
            if (d is not null && condition(d)) return d;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{Resource}: list never matched; last: {string.Join(" ", d?.Select(x => $"{x.ID}:{x.Health}") ?? [])}");
            Thread.Sleep(10);
        }
    }

    public List<string> Healthy() => (Devices ?? []).Where(d => d.Health == "Healthy").Select(d => d.ID).ToList();

    /// <summary>The device manager's path for one container asking for n: preferred (over free healthy ids), Allocate, PreStart.</summary>
    public (List<string> Ids, K.ContainerAllocateResponse Response) AllocateContainer(int n)
    {
        List<string> free;
        lock (_gate) free = Healthy().Where(id => !_allocated.Contains(id)).ToList();
        if (free.Count < n) throw new InvalidOperationException($"{Resource}: {n} wanted, {free.Count} free");
        var ids = free.Take(n).ToList();
        if (Options.GetPreferredAllocationAvailable)
        {
            var pref = Client.GetPreferredAllocation(new K.PreferredAllocationRequest
            {
                ContainerRequests = { new K.ContainerPreferredAllocationRequest { AvailableDeviceIDs = { free }, AllocationSize = n } },
            });
            ids = pref.ContainerResponses[0].DeviceIDs.ToList();
        }
        var response = Allocate(ids);
        if (Options.PreStartRequired) Client.PreStartContainer(new K.PreStartContainerRequest { DevicesIds = { ids } });
        lock (_gate) foreach (var id in ids) _allocated.Add(id);
        return (ids, response);
    }

    public void Release(IEnumerable<string> ids) { lock (_gate) foreach (var id in ids) _allocated.Remove(id); }

    public K.ContainerAllocateResponse Allocate(IEnumerable<string> ids) =>
        Client.Allocate(new K.AllocateRequest { ContainerRequests = { new K.ContainerAllocateRequest { DevicesIds = { ids } } } },
            deadline: DateTime.UtcNow.AddSeconds(5)).ContainerResponses[0];

    public void Dispose()
    {
        _stop.Cancel();
        _channel.Dispose();
    }
}

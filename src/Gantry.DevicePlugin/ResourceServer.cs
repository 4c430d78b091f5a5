using System.Net.Sockets;
using Gantry.Common;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Proto = Gantry.DevicePlugin.V1Beta1;

namespace Gantry.DevicePlugin;

// One resource's gRPC server on its socket in the kubelet's directory, and its registration with the kubelet.
// Restart = a fresh Kestrel on a fresh socket (what a kubelet restart or a deleted socket calls for).
internal sealed class ResourceServer(DevicePluginService service, PluginResource resource, string directory, Log log) : IAsyncDisposable
{
    WebApplication? _app;

    public string SocketPath { get; } = Path.Combine(directory, resource.SocketName);
    public PluginResource Resource => resource;
    public bool Registered { get; private set; }

    public async Task StartAsync()
    {
        await StopAsync();
        Directory.CreateDirectory(directory);
        if (File.Exists(SocketPath)) File.Delete(SocketPath);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            o.ListenUnixSocket(SocketPath, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<DevicePluginService>();
        await app.StartAsync();
        _app = app;
        Registered = false;
    }

    /// <summary>Registers with the kubelet's socket; false (logged) when the kubelet does not take it.</summary>
    public async Task<bool> RegisterAsync(string kubeletSocket)
    {
        try
        {
            using var channel = UnixChannel(kubeletSocket);
            var client = new Proto.Registration.RegistrationClient(channel);
            await client.RegisterAsync(new Proto.RegisterRequest
            {
                Version = "v1beta1", Endpoint = resource.SocketName, ResourceName = resource.Name, Options = DevicePluginService.Options,
            }, deadline: DateTime.UtcNow.AddSeconds(5));
            log.Info($"Registered device plugin for '{resource.Name}' with Kubelet");
            Registered = true;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException or SocketException or HttpRequestException)
        {
            log.Warning($"Could not register device plugin for '{resource.Name}' with {kubeletSocket}: {Cause(e)}");
            Registered = false;
        }
        return Registered;
    }

    static string Cause(Exception e) => e is Grpc.Core.RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : e.Message;

    /// <summary>A gRPC channel over a unix socket.</summary>
    public static GrpcChannel UnixChannel(string socketPath) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancel) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try { await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel); }
                    catch { s.Dispose(); throw; }
                    return new NetworkStream(s, ownsSocket: true);
                },
            },
        });

    public async Task StopAsync()
    {
        if (_app is null) return;
        var app = _app;
        _app = null;
        service.EndStreams();
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            try { await app.StopAsync(grace.Token); } catch (OperationCanceledException) { }
        await app.DisposeAsync();
        try { if (File.Exists(SocketPath)) File.Delete(SocketPath); } catch (IOException) { }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

using System.Net;
using Gantry.Common;
using Gantry.NvidiaDocker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Plugin;

/// <summary>A request as the plugin's APIs see it.</summary>
internal readonly record struct PluginRequest(string Method, string Path, string? Query, string? Accept, byte[] Body);

// One Kestrel server for one listener (the volume plugin's unix socket, or the REST API's TCP address) that
// hands every request to a route function. The empty builder keeps start-up lean: no configuration files, no
// file watching (which stalls in "/"), no logging providers.
internal sealed class PluginServer
{
    const int MaxBody = 1 << 20;
    readonly WebApplication _app;
    readonly Log _log;

    public string Name { get; }

    PluginServer(string name, WebApplication app, Log log)
    {
        Name = name;
        _app = app;
        _log = log;
    }

    public static PluginServer Create(string name, Action<KestrelServerOptions> listen, Func<PluginRequest, HttpReply> route, Log log)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            o.Limits.MaxRequestBodySize = MaxBody;
            // The original's servers gave a request 5 s to arrive.
            o.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            o.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            listen(o);
        });
        builder.Services.AddRoutingCore();
        var app = builder.Build();
        var server = new PluginServer(name, app, log);
        app.Run(server.Serve(route));
        return server;
    }

    RequestDelegate Serve(Func<PluginRequest, HttpReply> route) => async context =>
    {
        var request = context.Request;
        HttpReply reply;
        try
        {
            var body = await ReadBody(request, context.RequestAborted);
            reply = route(new PluginRequest(request.Method, request.Path.Value ?? "/", request.QueryString.Value, request.Headers.Accept.FirstOrDefault(), body));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested) { return; } // the client left
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) { reply = HttpReply.Error(e.StatusCode, e.Message); }
        catch (Exception e)
        {
            // Whatever went wrong ends this request only; the server goes on, as the original's recover did.
            _log.Error($"{Name} {request.Path}: {e.GetType().Name}: {e.Message}");
            reply = HttpReply.InternalError;
        }
        var response = context.Response;
        response.StatusCode = reply.Status;
        if (reply.ContentType is not null) response.ContentType = reply.ContentType;
        if (reply.Allow is not null) response.Headers.Allow = reply.Allow;
        if (reply.Status >= 400 && reply.ContentType == HttpReply.PlainText) response.Headers.XContentTypeOptions = "nosniff";
        response.ContentLength = reply.Body.Length;
        try { await response.Body.WriteAsync(reply.Body, context.RequestAborted); }
        catch (OperationCanceledException) { }
        catch (IOException) { }
    };

    static async Task<byte[]> ReadBody(HttpRequest request, CancellationToken cancel)
    {
        if (request.ContentLength == 0) return [];
        var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancel);
        return buffer.ToArray();
    }

    public Task StartAsync(CancellationToken cancel) => _app.StartAsync(cancel);

    public Task StopAsync(TimeSpan grace)
    {
        using var timeout = new CancellationTokenSource(grace);
        return _app.StopAsync(timeout.Token);
    }

    /// <summary>Where it listens, as Kestrel bound it (the real port when 0 was asked for).</summary>
    public IReadOnlyList<string> Addresses =>
        _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>Kestrel listen options for an address as Go's net.Listen takes it ("localhost:3476", ":3476", "[::1]:3476"); a name is resolved now.</summary>
    public static Action<KestrelServerOptions> Tcp(ListenAddress address)
    {
        var (host, port) = (address.Host, address.Port);
        if (host.Length == 0) return o => o.ListenAnyIP(port);
        if (IPAddress.TryParse(host, out var ip)) return o => o.Listen(ip, port);
        IPAddress[] resolved;
        try { resolved = Dns.GetHostAddresses(host); }
        catch (System.Net.Sockets.SocketException e) { throw new GantryException($"cannot resolve the listen address '{host}:{port}': {e.Message}"); }
        // As Go does: listen on the first address the name resolves to (127.0.0.1 for localhost).
        var first = resolved.OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
            ?? throw new GantryException($"the listen address '{host}:{port}' resolves to nothing");
        return o => o.Listen(first, port);
    }

    public static Action<KestrelServerOptions> Unix(string path) => o => o.ListenUnixSocket(path);
}

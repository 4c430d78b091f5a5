using System.Net;
using Gantry.Common;
using Gantry.Discovery.Nvml;

namespace Gantry.NvidiaDocker;

// The plugin's REST API (GET only; another method on one of its paths is a 405 naming GET, where the original
// answered 404; an unknown path is a 404): GPU facts, live status, the docker and
// mesos command-line arguments for this host, each under /v1.0 and unprefixed; plus Prometheus /metrics.
internal sealed class RemoteApi(IGpuHost host, Log log)
{
    public const string Version = "v1.0";

    // Computed once: nothing in /gpu/info changes while the plugin runs.
    readonly Lazy<GpuInfoReport> _info = new(() => GpuInfoReport.From(host));

    static NvidiaDockerJsonContext Json => NvidiaDockerJson.Types;

    public HttpReply Handle(string method, string path, string? query)
    {
        if (method != "GET") return IsPath(path) ? HttpReply.MethodNotAllowed("GET") : HttpReply.NotFound;
        if (path == "/metrics") return Guard(path, () => HttpReply.Text(PrometheusMetrics.Render(host), 200) with { ContentType = PrometheusMetrics.ContentType });
        var route = path.StartsWith("/" + Version + "/", StringComparison.Ordinal) ? path[(Version.Length + 1)..] : path;
        return route switch
        {
            "/gpu/info" => Guard(path, () => HttpReply.Text(_info.Value.ToText())),
            "/gpu/info/json" => Guard(path, () => new HttpReply(200, HttpReply.Json, NvidiaDockerJson.Encode(_info.Value, Json.GpuInfoReport))),
            "/gpu/status" => Guard(path, () => HttpReply.Text(GpuStatusReport.From(host).ToText(_info.Value))),
            "/gpu/status/json" => Guard(path, () => new HttpReply(200, HttpReply.Json, NvidiaDockerJson.Encode(GpuStatusReport.From(host), Json.GpuStatusReport))),
            "/docker/cli" => Guard(path, () => DockerCli(query, json: false)),
            "/docker/cli/json" => Guard(path, () => DockerCli(query, json: true)),
            "/mesos/cli" => Guard(path, () => HttpReply.Text(MesosCli.Arguments(_info.Value, host))),
            _ => HttpReply.NotFound,
        };
    }

    static readonly string[] Routes = ["/gpu/info", "/gpu/info/json", "/gpu/status", "/gpu/status/json", "/docker/cli", "/docker/cli/json", "/mesos/cli"];

    static bool IsPath(string path) =>
        path == "/metrics" || Routes.Contains(path.StartsWith("/" + Version + "/", StringComparison.Ordinal) ? path[(Version.Length + 1)..] : path);

    HttpReply DockerCli(string? query, bool json)
    {
        var form = QueryString.Parse(query);
        // Clients join lists with "+", which decodes to a space.
        var volumes = form.GetValueOrDefault("vol", "").Split(' ');
        var devices = form.GetValueOrDefault("dev", "").Split(' ');
        if (!DockerCliArgs.TryBuild(host, volumes, devices, out var args, out var error)) return HttpReply.Error(400, error);
        return json ? new HttpReply(200, HttpReply.Json, NvidiaDockerJson.Encode(args, Json.DockerCliArgs)) : HttpReply.Text(args.ToCommandLine());
    }

    // A failing driver call ends the one request with 500 and a log line; the server goes on.
    HttpReply Guard(string path, Func<HttpReply> handler)
    {
        try { return handler(); }
        catch (Exception e) when (e is NvmlCallException or GantryException or IOException or InvalidOperationException)
        {
            log.Error($"{path}: {e.Message}");
            return HttpReply.InternalError;
        }
    }
}

/// <summary>A URL query as Go's url.ParseQuery reads it: "&amp;"-separated, "+" and %XX decoded, the first value of a key wins.</summary>
internal static class QueryString
{
    public static Dictionary<string, string> Parse(string? query)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (query ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = WebUtility.UrlDecode(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : WebUtility.UrlDecode(pair[(eq + 1)..]);
            values.TryAdd(key, value);
        }
        return values;
    }
}

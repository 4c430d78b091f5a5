using System.Text.Json;

namespace Gantry.NvidiaDockerWrapper;

// Which local socket the docker command would talk to, when that can be known without the CLI: the plain
// `docker` command, no context, no TLS, and a unix:// host (-H, else DOCKER_HOST, else the default socket).
internal static class DockerEndpoint
{
    public const string DefaultSocket = "/var/run/docker.sock";

    /// <summary>The socket path, or null when only the docker CLI can tell where (and how) the daemon is.</summary>
    public static string? LocalSocket(IReadOnlyList<string> dockerCommand, IReadOnlyList<string> globalOptions, Func<string, string?> env)
    {
        if (dockerCommand is not ["docker"]) return null;
        string? host = null;
        for (var i = 0; i < globalOptions.Count; i++)
        {
            var o = globalOptions[i];
            if (o is "-H" or "--host") { host = i + 1 < globalOptions.Count ? globalOptions[++i] : null; continue; }
            if (o.StartsWith("--host=", StringComparison.Ordinal)) { host = o[7..]; continue; }
            if (o.StartsWith("-H", StringComparison.Ordinal)) { host = o[2..].TrimStart('='); continue; }
            if (o is "-c" or "--config" or "--context" || o.StartsWith("--config=", StringComparison.Ordinal) || o.StartsWith("--context=", StringComparison.Ordinal)
                || o.StartsWith("--tls", StringComparison.Ordinal)) return null;
        }
        host ??= env("DOCKER_HOST") is { Length: > 0 } h ? h : null;
        if (host is null)
        {
            if (env("DOCKER_CONTEXT") is { Length: > 0 } ctx && ctx != "default") return null;
            if (CurrentContext(env) is { } current && current != "default") return null;
            return DefaultSocket;
        }
        return host.StartsWith("unix://", StringComparison.Ordinal) ? host[7..] : null;
    }

    // `docker context use` is remembered in the CLI's config.json.
    static string? CurrentContext(Func<string, string?> env)
    {
        var dir = env("DOCKER_CONFIG") is { Length: > 0 } d ? d : env("HOME") is { Length: > 0 } home ? Path.Combine(home, ".docker") : null;
        var file = dir is null ? null : Path.Combine(dir, "config.json");
        if (file is null || !File.Exists(file)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("currentContext", out var c) ? c.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>Where the wrapper asks a remote nvidia-docker-plugin: over HTTP, or through an SSH tunnel to the host.</summary>
internal sealed record PluginAddress(string Scheme, string Host, int Port, string? SshUser = null, int SshPort = 22)
{
    public const int DefaultPort = 3476;
}

// NV_HOST ("[(http|tcp|ssh)://][user@][host][:ssh-port]:[plugin-port]") or, when unset, DOCKER_HOST (plugin
// port 3476): a unix:// Docker host, or neither variable, means the GPUs are local.
internal static partial class PluginAddressParser
{
    public const string InvalidUri = "invalid remote host URI";

    [GeneratedRegex(@"^(\[[0-9a-f.:]+\]|[0-9A-Za-z.\-_]+)?(:\d+)?:(\d+)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex HostPorts();

    [GeneratedRegex(@"^[a-z0-9+.-]+://", RegexOptions.CultureInvariant)]
    private static partial Regex HasScheme();

    /// <summary>Null address = local mode. warning is set when NV_HOST is given without DOCKER_HOST.</summary>
    public static bool TryParse(string? nvHost, string? dockerHost, out PluginAddress? address, out string? warning, [NotNullWhen(false)] out string? error)
    {
        address = null;
        warning = null;
        error = null;
        var fromNvHost = !string.IsNullOrEmpty(nvHost);
        var value = fromNvHost ? nvHost! : dockerHost;
        if (string.IsNullOrEmpty(value)) return true;
        if (fromNvHost && string.IsNullOrEmpty(dockerHost)) warning = "Warning: NV_HOST is set but DOCKER_HOST is not";
        if (!HasScheme().IsMatch(value)) value = "tcp://" + value;

        var schemeEnd = value.IndexOf("://", StringComparison.Ordinal);
        var scheme = value[..schemeEnd];
        if (scheme == "unix") return true;
        var authority = value[(schemeEnd + 3)..];
        var slash = authority.IndexOf('/');
        if (slash >= 0) authority = authority[..slash];
        string? user = null;
        var at = authority.LastIndexOf('@');
        if (at >= 0) { user = Uri.UnescapeDataString(authority[..at].Split(':')[0]); authority = authority[(at + 1)..]; }

        var m = HostPorts().Match(authority);
        if (!m.Success) { error = InvalidUri; return false; }
        var host = m.Groups[1].Success && m.Groups[1].Length > 0 ? m.Groups[1].Value : "localhost";
        var sshPort = m.Groups[2].Success ? int.Parse(m.Groups[2].Value[1..], System.Globalization.CultureInfo.InvariantCulture) : 22;
        var port = m.Groups[3].Success && m.Groups[3].Length > 0 ? int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : PluginAddress.DefaultPort;
        switch (scheme)
        {
            case "tcp" or "http":
                // DOCKER_HOST names Docker's port; the plugin listens on its own.
                address = new PluginAddress("http", host, fromNvHost ? port : PluginAddress.DefaultPort);
                return true;
            case "ssh":
                address = new PluginAddress("ssh", host, port, user ?? Environment.GetEnvironmentVariable("USER") ?? "", sshPort);
                return true;
            default:
                error = InvalidUri;
                return false;
        }
    }
}

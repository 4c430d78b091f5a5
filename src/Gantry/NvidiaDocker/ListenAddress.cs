using System.Diagnostics.CodeAnalysis;

namespace Gantry.NvidiaDocker;

/// <summary>
/// The plugin's -l address as Go's net.Listen takes it: "host:port", ":port", "[v6]:port", with a port from 0
/// to 65535 (0: any free port). Checked while the flags are parsed, before the plugin creates anything.
/// </summary>
internal sealed record ListenAddress(string Host, int Port)
{
    public static bool TryParse(string address, [NotNullWhen(true)] out ListenAddress? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        var colon = address.LastIndexOf(':');
        if (colon < 0)
        {
            error = $"invalid listen address '{address}': missing port (expected host:port, e.g. localhost:3476)";
            return false;
        }
        var host = address[..colon];
        if (host.StartsWith('['))
        {
            if (!host.EndsWith(']')) { error = $"invalid listen address '{address}': missing ']' in the host"; return false; }
            host = host[1..^1];
        }
        else if (host.Contains(':'))
        {
            error = $"invalid listen address '{address}': too many colons (write an IPv6 host in brackets, e.g. [::1]:3476)";
            return false;
        }
        var portText = address[(colon + 1)..];
        if (portText.Length == 0 || portText.Length > 5 || !portText.All(char.IsAsciiDigit) || int.Parse(portText) > 65535)
        {
            error = $"invalid listen address '{address}': the port must be a number from 0 to 65535";
            return false;
        }
        result = new ListenAddress(host, int.Parse(portText));
        error = null;
        return true;
    }
}

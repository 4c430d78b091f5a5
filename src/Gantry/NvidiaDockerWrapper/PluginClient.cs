using System.Globalization;
using System.Net.Sockets;
using Gantry.Common;

namespace Gantry.NvidiaDockerWrapper;

// The wrapper's requests to a remote nvidia-docker-plugin, over one kept-alive connection (TCP, or an ssh tunnel):
// one ssh login (and at most one password prompt) per run, however many requests.
internal sealed class PluginClient(PluginAddress plugin, IReadOnlyList<string> sshCommand, bool interactive) : IDisposable
{
    // The original's HTTP client gave up after 10 s; a terminal may be asking for a password, which takes longer.
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10), InteractiveTimeout = TimeSpan.FromSeconds(60);

    SshTunnel? _tunnel;
    Stream? _stream;

    bool Ssh => plugin.Scheme == "ssh";
    string Port => plugin.Port.ToString(CultureInfo.InvariantCulture);

    string Where => Ssh
        ? $"the nvidia-docker plugin at localhost:{Port} through ssh to {(string.IsNullOrEmpty(plugin.SshUser) ? "" : plugin.SshUser + "@")}{plugin.Host} port {plugin.SshPort.ToString(CultureInfo.InvariantCulture)}"
        : $"the nvidia-docker plugin at {plugin.Host}:{Port}";

    public MiniHttpResponse Get(string path)
    {
        try
        {
            _stream ??= Connect();
            var response = MiniHttp.Get(_stream, Ssh ? $"localhost:{Port}" : $"{plugin.Host}:{Port}", path, keepAlive: true);
            if (!response.KeepAlive) Close();
            return response;
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            var reason = _tunnel?.Failure() ?? e.Message;
            Close();
            throw new GantryException($"cannot reach {Where}: {reason}", e);
        }
    }

    Stream Connect()
    {
        if (!Ssh) return MiniHttp.ConnectTcp(plugin.Host, plugin.Port, Timeout);
        _tunnel = SshTunnel.Open(sshCommand, plugin, batch: !interactive, interactive ? InteractiveTimeout : Timeout);
        return _tunnel.Stream;
    }

    void Close()
    {
        if (_tunnel is null) _stream?.Dispose();
        _tunnel?.Dispose();
        (_tunnel, _stream) = (null, null);
    }

    public void Dispose() => Close();
}

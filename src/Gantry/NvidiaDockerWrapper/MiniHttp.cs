using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>KeepAlive: the connection may carry the next request (asked for, and the body's end was known).</summary>
internal sealed record MiniHttpResponse(int Status, string Body, bool KeepAlive = false);

// Just enough HTTP/1.1 for the wrapper's few GET requests (the Docker API on its unix socket, the plugin's REST
// API over TCP or an SSH tunnel): one request per connection unless kept alive, a body by Content-Length, chunks
// or end of stream.
// System.Net.Http would add megabytes and start-up time to a binary that runs for every container.
internal static class MiniHttp
{
    const int MaxBody = 16 << 20;

    public static MiniHttpResponse Get(Stream stream, string host, string pathAndQuery, bool keepAlive = false)
    {
        Send(stream, host, pathAndQuery, keepAlive);
        return Receive(stream, keepAlive);
    }

    /// <summary>Sends a GET request; Receive reads its answer (the server works on it in between).</summary>
    public static void Send(Stream stream, string host, string pathAndQuery, bool keepAlive = false)
    {
        var connection = keepAlive ? "" : "Connection: close\r\n";
        var request = $"GET {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: nvidia-docker\r\nAccept: */*\r\n{connection}\r\n";
        stream.Write(Encoding.ASCII.GetBytes(request));
        stream.Flush();
    }

    public static MiniHttpResponse Receive(Stream stream, bool keepAlive = false)
    {
        var reader = new BufferedReader(stream);
        var status = reader.ReadLine() ?? throw new IOException("the server closed the connection without answering");
        var parts = status.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var code))
            throw new IOException($"not an HTTP response: '{status}'");
        long? length = null;
        var chunked = false;
        var serverCloses = false;
        for (var line = reader.ReadLine(); !string.IsNullOrEmpty(line); line = reader.ReadLine())
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, CultureInfo.InvariantCulture, out var n)) length = n;
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) chunked = true;
            if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && value.Contains("close", StringComparison.OrdinalIgnoreCase)) serverCloses = true;
        }
        var body = chunked ? reader.ReadChunked() : length is { } len ? reader.ReadExactly(len) : reader.ReadToEnd();
        var reusable = keepAlive && !serverCloses && (chunked || length is not null) && parts[0] == "HTTP/1.1";
        return new MiniHttpResponse(code, Encoding.UTF8.GetString(body), reusable);
    }

    public static Stream ConnectUnix(string path, TimeSpan timeout) => Host.UnixSocketStream.Connect(path, timeout);

    public static Stream ConnectTcp(string host, int port, TimeSpan timeout)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!socket.ConnectAsync(host.Trim('[', ']'), port).Wait(timeout)) throw new IOException($"connecting to {host}:{port} timed out");
            socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (AggregateException e) when (e.InnerException is SocketException s) { socket.Dispose(); throw new IOException(s.Message, s); }
        catch { socket.Dispose(); throw; }
    }

    sealed class BufferedReader(Stream stream)
    {
        readonly byte[] _buffer = new byte[16 << 10];
        int _start, _end;

        bool Fill()
        {
            if (_start < _end) return true;
            _start = 0;
            _end = stream.Read(_buffer, 0, _buffer.Length);
            return _end > 0;
        }

        public string? ReadLine()
        {
            var line = new StringBuilder();
            while (Fill())
            {
                var b = _buffer[_start++];
                if (b == '\n') return line.ToString().TrimEnd('\r');
                line.Append((char)b);
                if (line.Length > 64 << 10) throw new IOException("HTTP header line too long");
            }
            return line.Length == 0 ? null : line.ToString();
        }

        public byte[] ReadExactly(long length)
        {
            if (length > MaxBody) throw new IOException($"HTTP body of {length} bytes is too large");
            var body = new byte[length];
            var got = 0;
            while (got < length)
            {
                if (!Fill()) throw new IOException("the server closed the connection in the middle of the body");
                var n = (int)Math.Min(_end - _start, length - got);
                Array.Copy(_buffer, _start, body, got, n);
                _start += n;
                got += n;
            }
            return body;
        }

        public byte[] ReadToEnd()
        {
            var all = new MemoryStream();
            while (Fill())
            {
                all.Write(_buffer, _start, _end - _start);
                _start = _end;
                if (all.Length > MaxBody) throw new IOException("HTTP body too large");
            }
            return all.ToArray();
        }

        public byte[] ReadChunked()
        {
            var all = new MemoryStream();
            while (true)
            {
                var header = ReadLine() ?? throw new IOException("truncated chunked body");
                if (!long.TryParse(header.Split(';')[0].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
                    throw new IOException($"bad chunk size in HTTP body: '{header}'");
                if (size == 0)
                {
                    // Trailers up to the blank line, so a kept-alive connection starts clean at the next response.
                    while (!string.IsNullOrEmpty(ReadLine())) { }
                    return all.ToArray();
                }
                all.Write(ReadExactly(size));
                ReadLine();
                if (all.Length > MaxBody) throw new IOException("HTTP body too large");
            }
        }
    }
}

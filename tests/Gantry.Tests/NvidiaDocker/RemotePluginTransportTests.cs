using System.Text;
using Gantry.NvidiaDockerWrapper;

namespace Gantry.Tests.NvidiaDocker;

// How the wrapper reaches a remote plugin: the ssh command line it builds, NV_SSH, and HTTP keep-alive (both
// requests of a run on one connection, so one ssh login).
public sealed class RemotePluginTransportTests
{
    static readonly PluginAddress Remote = new("ssh", "gpu3", 4000, "alice", 2222);

    [Fact]
    public void Without_a_terminal_ssh_runs_in_batch_mode_to_the_plugin_port_on_the_remote()
    {
        Assert.Equal(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-p", "2222", "-W", "localhost:4000", "--", "alice@gpu3"],
            SshTunnel.Arguments(["ssh"], Remote, batch: true));
    }

    [Fact]
    public void On_a_terminal_ssh_may_ask_and_the_users_own_options_come_first()
    {
        Assert.Equal(["-F", "/cfg", "-o", "ConnectTimeout=10", "-p", "22", "-W", "localhost:3476", "--", "::1"],
            SshTunnel.Arguments(["ssh", "-F", "/cfg"], new PluginAddress("ssh", "[::1]", 3476, "", 22), batch: false));
    }

    [Fact]
    public void A_user_or_host_that_looks_like_an_option_stays_the_destination()
    {
        var args = SshTunnel.Arguments(["ssh"], new PluginAddress("ssh", "-oProxyCommand=x", 1, null, 22), batch: true);
        Assert.Equal(["--", "-oProxyCommand=x"], args.TakeLast(2));
    }

    [Fact]
    public void NV_SSH_is_split_on_whitespace_and_defaults_to_ssh()
    {
        Assert.Equal(["ssh", "-F", "/x"], WrapperSettings.Load(v => v == "NV_SSH" ? " ssh  -F /x " : null).SshCommand);
        Assert.Equal(["ssh"], WrapperSettings.Load(_ => null).SshCommand);
    }

    [Fact]
    public void Kept_alive_responses_are_read_one_after_the_other_from_one_stream()
    {
        var stream = new ScriptedStream(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbad\n");
        var first = MiniHttp.Get(stream, "localhost:3476", "/gpu/info/json", keepAlive: true);
        var second = MiniHttp.Get(stream, "localhost:3476", "/docker/cli", keepAlive: true);
        var third = MiniHttp.Get(stream, "localhost:3476", "/docker/cli", keepAlive: true);
        Assert.Equal((200, "ok", true), (first.Status, first.Body, first.KeepAlive));
        Assert.Equal((200, "abc", true), (second.Status, second.Body, second.KeepAlive));
        Assert.Equal((400, "bad\n", false), (third.Status, third.Body, third.KeepAlive));
        Assert.DoesNotContain("Connection: close", stream.Written);
    }

    [Fact]
    public void A_one_shot_request_says_so_and_is_not_kept()
    {
        var stream = new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        Assert.False(MiniHttp.Get(stream, "docker", "/_ping").KeepAlive);
        Assert.Contains("Connection: close\r\n", stream.Written);
    }

    [Fact]
    public void A_bad_chunk_size_is_an_IO_error()
    {
        var stream = new ScriptedStream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        Assert.Throws<IOException>(() => MiniHttp.Get(stream, "h", "/"));
    }

    // A server in lockstep: each request written releases the next reply, served a few bytes at a time as a
    // network would; what is written is recorded.
    sealed class ScriptedStream(params string[] replies) : Stream
    {
        readonly Queue<string> _replies = new(replies);
        readonly MemoryStream _written = new();
        byte[] _reply = [];
        int _at;
        public string Written => Encoding.ASCII.GetString(_written.ToArray());
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, 7), _reply.Length - _at);
            Array.Copy(_reply, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            _written.Write(buffer, offset, count);
            Assert.Equal(_reply.Length, _at); // the previous reply was read to its end before the next request
            if (Written.EndsWith("\r\n\r\n", StringComparison.Ordinal) && _replies.Count > 0) (_reply, _at) = (Encoding.ASCII.GetBytes(_replies.Dequeue()), 0);
        }
    }
}

using System.Net.Sockets;
using System.Text;
using Gantry.Host;

namespace Gantry.Tests.Host;

public sealed class UnixSocketStreamTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("gantry-uss-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    Socket Listen(string name)
    {
        var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, name)));
        server.Listen(4);
        return server;
    }

    [Fact]
    public async Task A_request_and_its_answer_go_through_and_the_end_of_stream_reads_as_zero()
    {
        using var server = Listen("s");
        var answered = Task.Run(() =>
        {
            using var peer = server.Accept();
            var buffer = new byte[64];
            var n = peer.Receive(buffer);
            peer.Send(Encoding.ASCII.GetBytes("got " + Encoding.ASCII.GetString(buffer, 0, n)));
            peer.Shutdown(SocketShutdown.Both);
        });
        using var stream = UnixSocketStream.Connect(Path.Combine(_dir, "s"), TimeSpan.FromSeconds(5));
        stream.Write("ping"u8);
        using var reader = new StreamReader(stream);
        Assert.Equal("got ping", reader.ReadToEnd());
        await answered;
    }

    [Fact]
    public void A_server_that_never_answers_times_out_instead_of_blocking()
    {
        using var server = Listen("silent");
        using var stream = UnixSocketStream.Connect(Path.Combine(_dir, "silent"), TimeSpan.FromMilliseconds(200));
        var e = Assert.Throws<IOException>(() => stream.ReadByte());
        Assert.Contains("timed out", e.Message);
    }

    [Fact]
    public void A_missing_socket_names_the_path_and_the_reason()
    {
        var path = Path.Combine(_dir, "absent");
        var e = Assert.Throws<SyscallException>(() => UnixSocketStream.Connect(path, TimeSpan.FromSeconds(1)));
        Assert.Contains(path, e.Message);
        Assert.Equal(Errno.ENOENT, e.Errno);
    }

    [Fact]
    public void A_path_too_long_for_a_socket_address_is_refused()
    {
        var path = "/" + new string('x', 120);
        var e = Assert.Throws<SyscallException>(() => UnixSocketStream.Connect(path, TimeSpan.FromSeconds(1)));
        Assert.Equal(36, e.Errno);
    }

    [Fact]
    public void Writing_to_a_closed_peer_is_an_error_not_a_signal()
    {
        using var server = Listen("gone");
        using var stream = UnixSocketStream.Connect(Path.Combine(_dir, "gone"), TimeSpan.FromSeconds(5));
        server.Accept().Dispose();
        server.Dispose();
        var big = new byte[1 << 20];
        Assert.ThrowsAny<IOException>(() => { for (var i = 0; i < 8; i++) stream.Write(big); });
    }
}

using System.Net.Sockets;
using System.Text;
using Gantry.NvidiaDockerWrapper;

namespace Gantry.Tests.NvidiaDocker;

// The wrapper's questions to the Docker API, against a unix socket that answers like dockerd.
public sealed class DockerSocketQueriesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("gantry-dsq-").FullName;
    readonly Socket _server;
    readonly List<string> _requests = [];

    public DockerSocketQueriesTests()
    {
        _server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _server.Bind(new UnixDomainSocketEndPoint(Socket));
        _server.Listen(8);
    }

    string Socket => Path.Combine(_dir, "docker.sock");

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Answers the next request with status and body, and records its request line.</summary>
    Task Answer(int status, string body) => Task.Run(() =>
    {
        using var peer = _server.Accept();
        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n"))
        {
            var n = peer.Receive(buffer);
            if (n == 0) break;
            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        lock (_requests) _requests.Add(request.ToString().Split("\r\n")[0]);
        var bytes = Encoding.UTF8.GetBytes(body);
        peer.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n"));
        peer.Send(bytes);
    });

    [Fact]
    public async Task The_volume_lookup_asks_once_by_prefix_and_matches_whole_names()
    {
        var answered = Answer(200, """{"Volumes":[{"Name":"nvidia_driver_550.54.15-old","Driver":"local"},{"Name":"nvidia_driver_535.1","Driver":"nvidia-docker"},{"Name":"other"}],"Warnings":null}""");
        var lookup = new DockerSocketQueries(Socket).VolumeLookup("nvidia_driver_");
        await answered;
        Assert.False(lookup("nvidia_driver_550.54.15"));
        Assert.True(lookup("nvidia_driver_535.1"));
        Assert.False(lookup("other"));
        var request = Assert.Single(_requests);
        Assert.Equal("GET /volumes?filters=%7B%22name%22%3A%5B%22nvidia_driver_%22%5D%7D HTTP/1.1", request);
    }

    [Fact]
    public async Task A_daemon_error_or_a_body_that_is_not_a_volume_list_reads_as_no_volume()
    {
        var answered = Answer(500, """{"message":"boom"}""");
        var failed = new DockerSocketQueries(Socket).VolumeLookup("nvidia_driver_");
        await answered;
        Assert.False(failed("nvidia_driver_1"));
        answered = Answer(200, "[1, 2]");
        var odd = new DockerSocketQueries(Socket).VolumeLookup("nvidia_driver_");
        await answered;
        Assert.False(odd("nvidia_driver_1"));
    }

    [Fact]
    public void An_unreachable_daemon_reads_as_no_image_and_no_volume()
    {
        var queries = new DockerSocketQueries(Path.Combine(_dir, "absent.sock"));
        Assert.Null(queries.Labels("img"));
        Assert.False(queries.VolumeLookup("nvidia_driver_")("nvidia_driver_1"));
    }

    [Fact]
    public async Task Labels_come_from_the_image_config()
    {
        var answered = Answer(200, """{"Config":{"Labels":{"com.nvidia.volumes.needed":"nvidia_driver","com.nvidia.cuda.version":"9.0"}}}""");
        var labels = new DockerSocketQueries(Socket).Labels("repo/img:tag");
        await answered;
        Assert.Equal(new ImageLabels("nvidia_driver", "9.0"), labels);
        Assert.Equal("GET /images/repo/img:tag/json HTTP/1.1", Assert.Single(_requests));
    }
}

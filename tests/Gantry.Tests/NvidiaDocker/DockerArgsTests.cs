using Gantry.NvidiaDockerWrapper;

namespace Gantry.Tests.NvidiaDocker;

public sealed class DockerArgsTests
{
    [Theory]
    [InlineData("run busybox", "run", 1)]
    [InlineData("run --rm -it busybox sh", "run", 3)]
    [InlineData("run -e A=1 -v /x:/y busybox", "run", 5)]
    [InlineData("run -eA=1 -v/x:/y busybox", "run", 3)]
    [InlineData("run -itv /x:/y busybox", "run", 3)]
    [InlineData("run -it --name gpu busybox", "run", 4)]
    [InlineData("run --name=gpu --rm=false busybox", "run", 3)]
    [InlineData("run -h myhost busybox", "run", 3)]
    [InlineData("run --init --use-api-socket --privileged -P -q busybox", "run", 6)]
    [InlineData("run -- busybox", "run", 2)]
    [InlineData("-H unix:///tmp/d.sock --debug run busybox", "run", 4)]
    [InlineData("--tls -D run -d busybox", "run", 4)]
    [InlineData("container run --rm busybox", "run", 3)]
    [InlineData("container create busybox", "create", 2)]
    [InlineData("create --gpus all busybox", "create", 3)]
    [InlineData("run --rm", "run", -1)]
    public void The_image_is_found_among_docker_options(string line, string command, int image)
    {
        var parsed = DockerArgs.Parse(line.Split(' '));
        Assert.Equal(command, parsed.Command);
        Assert.Equal(image, parsed.ImageIndex);
    }

    [Theory]
    [InlineData("ps -a", "ps")]
    [InlineData("version", "version")]
    [InlineData("-H tcp://x:2375 images", "images")]
    [InlineData("container ls", "container")]
    [InlineData("--help", null)]
    public void Other_commands_have_no_image(string line, string? command)
    {
        var parsed = DockerArgs.Parse(line.Split(' '));
        Assert.Equal(command, parsed.Command);
        Assert.False(parsed.IsRunOrCreate);
        Assert.Equal(-1, parsed.ImageIndex);
    }

    [Fact]
    public void Global_options_are_kept_to_reach_the_same_daemon()
    {
        var parsed = DockerArgs.Parse(["-H", "unix:///tmp/d.sock", "--tls", "run", "img"]);
        Assert.Equal(["-H", "unix:///tmp/d.sock", "--tls"], parsed.GlobalOptions);
    }
}

public sealed class DockerEndpointTests
{
    static Func<string, string?> Env(params (string, string)[] vars) => name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    [Fact]
    public void The_plain_docker_command_talks_to_the_default_socket()
    {
        Assert.Equal("/var/run/docker.sock", DockerEndpoint.LocalSocket(["docker"], [], Env(("HOME", "/nonexistent"))));
        Assert.Equal("/tmp/d.sock", DockerEndpoint.LocalSocket(["docker"], [], Env(("DOCKER_HOST", "unix:///tmp/d.sock"))));
        Assert.Equal("/tmp/e.sock", DockerEndpoint.LocalSocket(["docker"], ["-H", "unix:///tmp/e.sock"], Env(("DOCKER_HOST", "unix:///tmp/d.sock"))));
        Assert.Equal("/tmp/f.sock", DockerEndpoint.LocalSocket(["docker"], ["--host=unix:///tmp/f.sock"], Env()));
    }

    [Fact]
    public void Anything_only_the_docker_CLI_knows_goes_through_it()
    {
        Assert.Null(DockerEndpoint.LocalSocket(["sudo", "docker"], [], Env()));
        Assert.Null(DockerEndpoint.LocalSocket(["docker"], [], Env(("DOCKER_HOST", "tcp://10.0.0.1:2375"))));
        Assert.Null(DockerEndpoint.LocalSocket(["docker"], ["--context", "remote"], Env()));
        Assert.Null(DockerEndpoint.LocalSocket(["docker"], ["--tlsverify"], Env()));
        Assert.Null(DockerEndpoint.LocalSocket(["docker"], [], Env(("DOCKER_CONTEXT", "remote"))));
    }
}

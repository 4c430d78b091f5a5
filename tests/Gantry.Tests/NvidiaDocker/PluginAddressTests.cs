using Gantry.NvidiaDockerWrapper;

namespace Gantry.Tests.NvidiaDocker;

public sealed class PluginAddressTests
{
    [Theory]
    [InlineData("localhost:", null, "http", "localhost", 3476)]
    [InlineData(":", null, "http", "localhost", 3476)]
    [InlineData("gpu1:4000", null, "http", "gpu1", 4000)]
    [InlineData("http://gpu1:", "tcp://gpu1:2375", "http", "gpu1", 3476)]
    [InlineData("tcp://[::1]:5000", "tcp://x:1", "http", "[::1]", 5000)]
    [InlineData(null, "tcp://gpu2:2376", "http", "gpu2", 3476)]
    [InlineData("ssh://alice@gpu3:2222:4000", "tcp://x:1", "ssh", "gpu3", 4000)]
    public void NV_HOST_and_DOCKER_HOST_name_the_plugin(string? nvHost, string? dockerHost, string scheme, string host, int port)
    {
        Assert.True(PluginAddressParser.TryParse(nvHost, dockerHost, out var address, out _, out var error), error);
        Assert.Equal(scheme, address!.Scheme);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
    }

    [Fact]
    public void An_ssh_address_has_a_user_and_an_ssh_port()
    {
        Assert.True(PluginAddressParser.TryParse("ssh://alice@gpu3:2222:4000", "x", out var address, out _, out _));
        Assert.Equal(("alice", 2222), (address!.SshUser, address.SshPort));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "unix:///var/run/docker.sock")]
    [InlineData("unix:///tmp/x", null)]
    public void No_host_or_a_unix_socket_means_local_GPUs(string? nvHost, string? dockerHost)
    {
        Assert.True(PluginAddressParser.TryParse(nvHost, dockerHost, out var address, out _, out _));
        Assert.Null(address);
    }

    [Theory]
    [InlineData("gpu1", null)]
    [InlineData("ftp://gpu1:", null)]
    [InlineData(null, "tcp://gpu1")]
    [InlineData("gpu 1:", null)]
    public void Bad_addresses_are_refused_with_the_original_message(string? nvHost, string? dockerHost)
    {
        Assert.False(PluginAddressParser.TryParse(nvHost, dockerHost, out _, out _, out var error));
        Assert.Equal("invalid remote host URI", error);
    }

    [Fact]
    public void NV_HOST_without_DOCKER_HOST_warns()
    {
        PluginAddressParser.TryParse("gpu1:", null, out _, out var warning, out _);
        Assert.Equal("Warning: NV_HOST is set but DOCKER_HOST is not", warning);
        PluginAddressParser.TryParse("gpu1:", "tcp://gpu1:2375", out _, out warning, out _);
        Assert.Null(warning);
    }
}

using Gantry.Discovery;

namespace Gantry.Tests.Discovery;

public sealed class GlobTests
{
    [Theory]
    [InlineData("libcuda.so.*.*", "libcuda.so.550.54.15", true)]
    [InlineData("libcuda.so.*.*", "libcuda.so.1", false)]
    [InlineData("lib*.so.550.54.15", "libnvidia-ml.so.550.54.15", true)]
    [InlineData("lib?*.so*", "libvdpau_nvidia.so.1", true)]
    [InlineData("lib?*.so*", "lib.so", false)]
    [InlineData("gsp*.bin", "gsp_ga10x.bin", true)]
    [InlineData("channel[0-9]", "channel7", true)]
    [InlineData("channel[!0-9]", "channel7", false)]
    [InlineData("channel[^a]", "channelb", true)]
    [InlineData("a[", "a[", false)]
    [InlineData("*.*.*", "libcuda.so.550", true)]
    [InlineData("*.*.*", "libcuda.so", false)]
    [InlineData("", "", true)]
    [InlineData("*", "", true)]
    public void Matches_like_a_shell(string pattern, string name, bool expected) =>
        Assert.Equal(expected, Glob.Match(pattern, name));
}

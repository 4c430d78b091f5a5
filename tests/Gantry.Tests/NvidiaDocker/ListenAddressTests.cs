using Gantry.NvidiaDocker;

namespace Gantry.Tests.NvidiaDocker;

public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("localhost:3476", "localhost", 3476)]
    [InlineData(":3476", "", 3476)]
    [InlineData("[::1]:5000", "::1", 5000)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("0.0.0.0:65535", "0.0.0.0", 65535)]
    public void A_host_and_port_is_taken_as_go_takes_it(string text, string host, int port)
    {
        Assert.True(ListenAddress.TryParse(text, out var address, out var error), error);
        Assert.Equal(new ListenAddress(host, port), address);
    }

    [Theory]
    [InlineData("notanaddress", "invalid listen address 'notanaddress': missing port (expected host:port, e.g. localhost:3476)")]
    [InlineData("127.0.0.1:99999", "invalid listen address '127.0.0.1:99999': the port must be a number from 0 to 65535")]
    [InlineData("127.0.0.1:abc", "invalid listen address '127.0.0.1:abc': the port must be a number from 0 to 65535")]
    [InlineData("127.0.0.1:", "invalid listen address '127.0.0.1:': the port must be a number from 0 to 65535")]
    [InlineData("127.0.0.1:-1", "invalid listen address '127.0.0.1:-1': the port must be a number from 0 to 65535")]
    [InlineData("::1:80", "invalid listen address '::1:80': too many colons (write an IPv6 host in brackets, e.g. [::1]:3476)")]
    [InlineData("[::1:80", "invalid listen address '[::1:80': missing ']' in the host")]
    public void A_bad_address_is_one_line_naming_it(string text, string expected)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }
}

using System.Text;
using Gantry.Common;
using Gantry.Hooks;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class ContainerStateTests
{
    static Stream S(string s) => new MemoryStream(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void The_non_standard_root_field_wins()
    {
        var state = ContainerState.Load("-", () => S("""{"ociVersion":"1.0","id":"c","status":"creating","pid":7,"bundle":"/b","root":"/r/rootfs","annotations":{"a":"b"}}"""));
        Assert.Equal("/r/rootfs", state.ResolveRoot());
        Assert.Equal(7, state.Pid);
        Assert.Equal("b", state.Annotations!["a"]);
    }

    [Theory]
    [InlineData("rootfs", "rootfs")]
    [InlineData("/abs/rootfs", "/abs/rootfs")]
    public void Without_root_the_bundle_config_names_it_relative_to_the_bundle(string rootPath, string expected)
    {
        using var t = new TestTree();
        File.WriteAllText(Path.Combine(t.Base, "config.json"), $$$"""{"ociVersion":"1.0","process":{"env":["LD_PRELOAD=x"]},"root":{"path":"{{{rootPath}}}","readonly":true}}""");
        var state = ContainerState.Load("", () => S($$"""{"id":"c","bundle":"{{t.Base}}"}"""));
        Assert.Equal(expected.StartsWith('/') ? expected : Path.Combine(t.Base, expected), state.ResolveRoot());
    }

    [Fact]
    public void A_state_file_can_be_named_instead_of_stdin()
    {
        using var t = new TestTree();
        var file = Path.Combine(t.Base, "state.json");
        File.WriteAllText(file, t.StateJson());
        Assert.Equal(t.Root, ContainerState.Load(file, () => throw new InvalidOperationException("stdin read")).ResolveRoot());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"id":"c"}""")]
    public void Bad_state_is_one_clear_error(string json)
    {
        var e = Assert.Throws<GantryException>(() => ContainerState.Load("-", () => S(json)).ResolveRoot());
        Assert.Contains("container state", e.Message);
    }
}

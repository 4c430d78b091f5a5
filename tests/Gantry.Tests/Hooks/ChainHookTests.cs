using Gantry.Common;
using Gantry.Hooks;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class ChainHookTests
{
    [Fact]
    public void A_chain_runs_each_hook_in_order_with_the_same_container_state()
    {
        using var t = new TestTree();
        var h = new HookHarness(t);
        var r = h.Command("chain", "create-symlinks", "--link", "a::/lib/one", "--then", "noop", "--then",
            "create-symlinks", "--link", "b::/lib/two", "--then", "future-hook", "--x");
        Assert.Equal(0, r);
        Assert.Equal("a", new FileInfo(t.InRoot("/lib/one")).LinkTarget);
        Assert.Equal("b", new FileInfo(t.InRoot("/lib/two")).LinkTarget); // stdin was replayed to the third hook
        Assert.Contains("Unsupported CDI hook: future-hook", h.LogText);
        t.AssertSentinelUntouched();
    }

    [Fact]
    public void A_failing_hook_stops_the_chain_with_its_error()
    {
        using var t = new TestTree();
        var h = new HookHarness(t);
        Assert.Throws<GantryException>(() =>
            h.Command("chain", "create-symlinks", "--link", "bad-spec", "--then", "create-symlinks", "--link", "a::/lib/never"));
        Assert.False(File.Exists(t.InRoot("/lib/never")) || new FileInfo(t.InRoot("/lib/never")).LinkTarget is not null);
        Assert.Throws<UsageException>(() => h.Command("chain", "chain", "noop"));
    }

    [Fact]
    public void Split_and_join_are_inverse_and_join_refuses_the_separator_as_an_argument()
    {
        IReadOnlyList<string>[] hooks = [["create-symlinks", "--link", "a::b"], ["update-ldcache", "--folder", "/x"], ["noop"]];
        var joined = ChainHook.Join(hooks)!;
        Assert.Equal(["create-symlinks", "--link", "a::b", "--then", "update-ldcache", "--folder", "/x", "--then", "noop"], joined);
        Assert.Equal(hooks.Select(h => string.Join(" ", h)), ChainHook.Split(joined).Select(h => string.Join(" ", h)));
        Assert.Null(ChainHook.Join([["noop", "--then"]]));
    }
}

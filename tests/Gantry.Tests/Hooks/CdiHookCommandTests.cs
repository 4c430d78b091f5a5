using Gantry.Common;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class CdiHookCommandTests
{
    [Theory]
    [InlineData(new string[0], "WARNING: No CDI hook specified")]
    [InlineData(new[] { "some-future-hook" }, "WARNING: Unsupported CDI hook: some-future-hook")]
    [InlineData(new[] { "some-future-hook", "--flag-from-the-future", "x" }, "WARNING: Unsupported CDI hook: some-future-hook")]
    [InlineData(new[] { "--debug", "another-hook", "--x" }, "WARNING: Unsupported CDI hook: another-hook")]
    public void Unknown_or_missing_hooks_warn_and_exit_zero(string[] args, string warning)
    {
        using var t = new TestTree();
        var h = new HookHarness(t);
        Assert.Equal(0, h.Command(args));
        Assert.Contains(warning, h.LogText);
    }

    [Fact]
    public void An_unknown_flag_on_a_known_hook_is_a_usage_error()
    {
        using var t = new TestTree();
        var e = Assert.Throws<UsageException>(() => new HookHarness(t).Command("create-symlinks", "--no-such-flag"));
        Assert.Contains("no-such-flag", e.Message);
    }

    [Fact]
    public void Noop_does_nothing_and_succeeds()
    {
        using var t = new TestTree();
        Assert.Equal(0, new HookHarness(t).Command("noop"));
        Assert.Empty(Directory.GetFileSystemEntries(t.Root));
    }

    [Fact]
    public void Every_documented_hook_is_registered()
    {
        var names = Gantry.Hooks.CdiHookCommand.Hooks.Select(h => h.Name).ToHashSet();
        foreach (var n in new[] { "create-symlinks", "update-ldcache", "chmod", "enable-cuda-compat", "disable-device-node-modification", "update-application-profile", "noop" })
            Assert.Contains(n, names);
    }

    [Fact]
    public void The_binary_dispatches_hook_names_and_exits_zero_for_unknown_ones()
    {
        var psi = new System.Diagnostics.ProcessStartInfo(HookHarness.GantryExe, ["hook", "not-a-hook"]) { RedirectStandardError = true, RedirectStandardInput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("Unsupported CDI hook: not-a-hook", err);
    }
}

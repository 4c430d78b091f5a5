using Gantry.Common;
using Gantry.Hooks;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class ChmodHookTests
{
    [Theory]
    [InlineData("755", 0b111_101_101)]
    [InlineData("0644", 0b110_100_100)]
    [InlineData("4755", 0b100_111_101_101)]
    public void Modes_are_octal(string text, int mode) => Assert.Equal(mode, ChmodHook.ParseMode(text));

    [Theory]
    [InlineData(null, "a non-empty mode must be specified")]
    [InlineData("", "a non-empty mode must be specified")]
    [InlineData("9", "invalid mode")]
    [InlineData("77777", "invalid mode")]
    public void Bad_modes_are_errors(string? text, string message) =>
        Assert.Contains(message, Assert.Throws<GantryException>(() => ChmodHook.ParseMode(text)).Message);

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Existing_paths_get_the_mode_and_missing_ones_are_skipped(string kind)
    {
        using var t = new TestTree();
        t.Mkdir("/dev/dri");
        File.SetUnixFileMode(t.InRoot("/dev/dri"), (UnixFileMode)0b111_000_000);
        new HookHarness(t, Resolvers.For(kind)).Invoke(new ChmodHook(), "--mode", "755", "--path", "/dev/dri", "--path", "/no/such");
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(t.InRoot("/dev/dri")));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_symlink_to_a_host_file_changes_nothing_on_the_host(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/dev/dri", t.Sentinel + "/keep.txt");
        t.Symlink("/dev/rel", "../../../host/keep.txt");
        new HookHarness(t, Resolvers.For(kind)).Invoke(new ChmodHook(), "--mode", "777", "--path", "/dev/dri", "--path", "/dev/rel");
        t.AssertSentinelUntouched();
    }
}

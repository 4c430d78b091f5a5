using Gantry.Common;
using Gantry.Host;
using Gantry.Requests;
using Gantry.Runtime;

namespace Gantry.Tests.Runtime;

public sealed class RuntimeArgsTests
{
    [Theory]
    [InlineData("create --bundle /b c1", true, "/b")]
    [InlineData("--root /r create -b=/b c1", true, "/b")]
    [InlineData("create -bundle /a --bundle=/b c1", true, "/b")]
    [InlineData("run --bundle create c1", false, "create")]
    [InlineData("start c1", false, "")]
    [InlineData("state create", true, "")]
    [InlineData("--log /l --log-format json delete create", true, "")]
    public void Create_is_a_literal_create_not_right_after_a_bundle_flag(string line, bool create, string bundle)
    {
        var a = RuntimeArgs.Parse(line.Split(' '));
        Assert.Equal(create, a.IsCreate);
        Assert.Equal(bundle, a.Bundle);
    }

    [Fact]
    public void Runc_global_options_take_one_or_two_dashes_and_an_equals_sign_or_the_next_argument()
    {
        var a = RuntimeArgs.Parse(["-log", "/l", "--log-format=json", "-debug", "--root=/run/r", "create", "c"]);
        Assert.Equal("/l", a.LogFile);
        Assert.Equal("json", a.LogFormat);
        Assert.True(a.Debug);
        // --root is runc's: its value is stepped over, so a state directory named "create" is not the command.
        Assert.False(RuntimeArgs.Parse(["--root", "create", "state", "c"]).IsCreate);
        Assert.False(RuntimeArgs.Parse(["--debug=false", "state", "c"]).Debug);
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-version")]
    [InlineData("--version=x")]
    public void Version_is_recognised_in_every_spelling(string flag) => Assert.True(RuntimeArgs.Parse([flag]).Version);

    [Fact]
    public void A_bundle_flag_without_a_value_is_a_usage_error()
    {
        var e = Assert.Throws<UsageException>(() => RuntimeArgs.Parse(["create", "c1", "--bundle"]));
        Assert.Equal("bundle option requires an argument", e.Message);
    }

    [Fact]
    public void Modes_come_from_config_or_the_name_and_auto_picks_cdi_only_for_qualified_names()
    {
        Assert.Null(ModeResolver.Configured("auto", null));
        Assert.Equal(RuntimeMode.Cdi, ModeResolver.Configured("legacy", "cdi"));
        Assert.Equal(RuntimeMode.JitCdi, ModeResolver.Configured("jit-cdi", null));
        Assert.Throws<GantryException>(() => ModeResolver.Configured("bogus", null));
        Assert.Equal(RuntimeMode.Cdi, ModeResolver.Auto(Gantry.Requests.VisibleDevices.Parse("nvidia.com/gpu=0,vendor.com/x=y")));
        Assert.Equal(RuntimeMode.JitCdi, ModeResolver.Auto(Gantry.Requests.VisibleDevices.Parse("nvidia.com/gpu=0,1")));
        Assert.Equal(RuntimeMode.JitCdi, ModeResolver.Auto(Gantry.Requests.VisibleDevices.Parse("all")));
    }

    [Fact]
    public void The_low_level_runtime_is_the_first_candidate_found()
    {
        using var dir = new Gantry.Tests.Support.TempDir();
        var exe = dir["myrunc"];
        File.WriteAllText(exe, "#!/bin/sh\n");
        File.SetUnixFileMode(exe, (UnixFileMode)0b111_101_101);
        File.WriteAllText(dir["notexec"], "");
        Assert.Equal(exe, BinaryLookup.ResolveRuntime(["nope-runtime", "myrunc"], dir.Path));
        Assert.Equal(exe, BinaryLookup.ResolveRuntime([dir["notexec"], exe], ""));
        var e = Assert.Throws<GantryException>(() => BinaryLookup.ResolveRuntime(["nope1", "nope2"], dir.Path));
        Assert.StartsWith("no runtime binary found from candidate list: [nope1 nope2]", e.Message);
    }
}

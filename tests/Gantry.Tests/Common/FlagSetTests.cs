using Gantry.Common;

namespace Gantry.Tests.Common;

public sealed class FlagSetTests
{
    static FlagSet Flags() => new FlagSet()
        .Bool("debug", "", ["d"]).String("output", "", "out.yaml", ["o"]).List("device", "", "all", ["devices"]);

    [Fact]
    public void Values_come_with_a_space_or_an_equals_sign_and_one_or_two_dashes()
    {
        var f = Flags().Parse(["--output", "a", "-d", "pos", "-devices=1,2", "--device", "3"]);
        Assert.Equal("a", f.Get("output"));
        Assert.True(f.GetBool("debug"));
        Assert.Equal(["1", "2", "3"], f.GetList("device"));
        Assert.Equal(["pos"], f.Positionals);
    }

    [Fact]
    public void Defaults_apply_when_a_flag_is_absent()
    {
        var f = Flags().Parse([]);
        Assert.Equal("out.yaml", f.Get("output"));
        Assert.False(f.IsSet("output"));
        Assert.Equal(["all"], f.GetList("device"));
    }

    [Fact]
    public void Unknown_flags_and_missing_values_are_usage_errors()
    {
        Assert.Contains("not defined", Assert.Throws<UsageException>(() => Flags().Parse(["--nope"])).Message);
        Assert.Contains("needs an argument", Assert.Throws<UsageException>(() => Flags().Parse(["--output"])).Message);
        Assert.Contains("invalid boolean", Assert.Throws<UsageException>(() => Flags().Parse(["--debug=maybe"])).Message);
    }

    [Fact]
    public void Stopping_at_the_first_positional_leaves_the_rest_to_a_sub_command()
    {
        var f = Flags().Parse(["-d", "cdi", "generate", "--output", "x"], stopAtFirstPositional: true);
        Assert.Equal(["cdi", "generate", "--output", "x"], f.Positionals);
        Assert.Equal("out.yaml", f.Get("output"));
    }

    [Fact]
    public void Environment_variables_fill_in_for_absent_flags()
    {
        Environment.SetEnvironmentVariable("GANTRY_TEST_FLAG_ENV", "from-env");
        var f = new FlagSet().String("x", "", null, null, ["GANTRY_TEST_FLAG_ENV"]).Parse([]);
        Assert.Equal("from-env", f.Get("x"));
        var g = new FlagSet().String("x", "", null, null, ["GANTRY_TEST_FLAG_ENV"]).Parse(["--x=flag"]);
        Assert.Equal("flag", g.Get("x"));
        Environment.SetEnvironmentVariable("GANTRY_TEST_FLAG_ENV", null);
    }
}

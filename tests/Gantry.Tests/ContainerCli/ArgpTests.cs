using Gantry.ContainerCli;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.ContainerCli;

public sealed class ArgpTests
{
    static readonly ArgpOption[] Options =
    [
        new("debug", 'd', ArgpArg.Required, "FILE", ""), new("load-kmods", 'k', ArgpArg.None, null, ""),
        new("user", 'u', ArgpArg.Optional, "UID", ""), new("no-pivot", 'n', ArgpArg.None, null, ""),
        new("no-create-imex-channels", null, ArgpArg.None, null, ""),
    ];

    [Fact]
    public void Clustered_short_options_take_an_attached_or_following_argument()
    {
        var r = Argp.Parse("p", ["-kdFILE", "-nd", "other", "info", "-k"], Options, inOrder: true);
        Assert.Equal([("load-kmods", null), ("debug", "FILE"), ("no-pivot", null), ("debug", "other")], r.Options);
        Assert.Equal(["info", "-k"], r.Operands);
    }

    [Fact]
    public void Optional_arguments_must_be_attached()
    {
        var r = Argp.Parse("p", ["-u", "1000", "--user=5"], Options, inOrder: false);
        Assert.Equal([("user", null), ("user", "5")], r.Options);
        Assert.Equal(["1000"], r.Operands);
    }

    [Fact]
    public void Unique_prefixes_of_long_names_are_accepted_and_ambiguous_ones_refused()
    {
        Assert.Equal("load-kmods", Argp.Parse("p", ["--load"], Options, false).Options[0].Name);
        var e = Assert.Throws<ArgpException>(() => Argp.Parse("p", ["--no"], Options, false));
        Assert.Equal("p: option '--no' is ambiguous; possibilities: '--no-pivot' '--no-create-imex-channels'", e.Message);
    }

    [Theory]
    [InlineData("--debug", "p: option '--debug' requires an argument")]
    [InlineData("-d", "p: option requires an argument -- 'd'")]
    [InlineData("-z", "p: invalid option -- 'z'")]
    [InlineData("--load-kmods=1", "p: option '--load-kmods' doesn't allow an argument")]
    [InlineData("--zzz", "p: unrecognized option '--zzz'")]
    public void Errors_read_like_getopt(string arg, string message) =>
        Assert.Equal(message, Assert.Throws<ArgpException>(() => Argp.Parse("p", [arg], Options, false)).Message);

    [Fact]
    public void A_double_dash_ends_the_options() =>
        Assert.Equal(["-k"], Argp.Parse("p", ["--", "-k"], Options, false).Operands);

    [Fact]
    public void Proc_devices_majors_come_from_the_character_section_only()
    {
        var majors = ProcDevices.Parse(["Character devices:", "195 nvidia", "510 nvidia-uvm", "", "Block devices:", "  8 sd", "259 nvidia"]);
        Assert.Equal(195u, majors["nvidia"]);
        Assert.Equal(510u, majors["nvidia-uvm"]);
        Assert.False(majors.ContainsKey("sd"));
    }

    [Fact]
    public void Paths_resolve_inside_the_root_through_directory_symlinks()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["run/x"]);
        File.WriteAllText(d["run/x/socket"], "");
        Directory.CreateDirectory(d["var"]);
        File.CreateSymbolicLink(d["var/run"], "/run");
        File.CreateSymbolicLink(d["escape"], "../../../../etc");
        Assert.Equal("/run/x/socket", DriverRootPath.Resolve(d.Path, "/var/run/x/socket"));
        Assert.Null(DriverRootPath.Resolve(d.Path, "/var/run/x/missing"));
        Assert.Null(DriverRootPath.Resolve(d.Path, "/escape/passwd"));
    }
}

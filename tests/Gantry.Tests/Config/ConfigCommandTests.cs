using Gantry.NvidiaCtk;
using Gantry.Common;
using Gantry.Config;
using Gantry.Tests.Engines;

namespace Gantry.Tests.Config;

public sealed class ConfigCommandTests
{
    static readonly ConfigHostFacts Plain = new(LdconfigRealExists: false, IsSuse: false);

    static string Run(params string[] args)
    {
        var stdout = new StringWriter();
        ConfigCommand.Run(args, Log.Silent, stdout, Plain);
        return stdout.ToString();
    }

    [Fact]
    public void Config_default_is_the_originals_commented_defaults_byte_for_byte()
    {
        EngineFixtures.Verify("config-default.toml", Run("default"));
        Assert.Equal(Run("default"), Run("create-default"));
    }

    [Fact]
    public void The_ldconfig_default_follows_ldconfig_real_and_suse_writes_the_user()
    {
        var stdout = new StringWriter();
        ConfigCommand.Run(["generate-default"], Log.Silent, stdout, new ConfigHostFacts(true, true));
        Assert.Contains("\nldconfig = \"@/sbin/ldconfig.real\"\n", stdout.ToString());
        Assert.Contains("\nuser = \"root:video\"\n", stdout.ToString());
    }

    [Theory]
    [InlineData("nvidia-container-runtime.mode=bogus", "'bogus' is not a valid nvidia-container-runtime.mode: use one of auto, legacy, csv, cdi, jit-cdi")]
    [InlineData("nvidia-container-runtime.mode=5", "'5' is not a valid nvidia-container-runtime.mode: use one of auto, legacy, csv, cdi, jit-cdi")]
    [InlineData("nvidia-container-runtime.log-level=loud", "'loud' is not a valid nvidia-container-runtime.log-level: use one of panic, fatal, error, warn, warning, info, debug, trace")]
    [InlineData("nvidia-container-runtime.modes.legacy.cuda-compat-mode=sometimes", "'sometimes' is not a valid nvidia-container-runtime.modes.legacy.cuda-compat-mode: use one of ldconfig, mount, hook, disabled")]
    [InlineData("nvidia-container-runtime.runtimes=notalist", "none of notalist is an OCI runtime on this host (an executable path, or a name on PATH such as runc or crun)")]
    [InlineData("nvidia-container-runtime.runtimes=", "nvidia-container-runtime.runtimes needs one or more low-level runtimes, e.g. runc:crun")]
    public void Set_refuses_a_value_the_toolkit_would_not_take_and_writes_nothing(string set, string problem)
    {
        using var dir = new TempDir();
        var path = dir.Write("config.toml", "[nvidia-container-runtime]\nmode = \"auto\"\n");
        var e = Assert.Throws<UsageException>(() => Run("-c", path, "-i", "--set", set));
        Assert.Equal($"invalid --set {set}: {problem}", e.Message);
        Assert.Equal("[nvidia-container-runtime]\nmode = \"auto\"\n", File.ReadAllText(path));
    }

    [Theory]
    [InlineData("nvidia-container-runtime.mode=jit-cdi", "mode = \"jit-cdi\"")]
    [InlineData("nvidia-container-runtime.log-level=DEBUG", "log-level = \"DEBUG\"")]
    [InlineData("nvidia-container-runtime.runtimes=/nonexistent/runtime:/bin/sh", "runtimes = [\"/nonexistent/runtime\", \"/bin/sh\"]")]
    public void Set_takes_every_allowed_value(string set, string written)
    {
        using var dir = new TempDir();
        var path = dir.Write("config.toml", "[nvidia-container-runtime]\nmode = \"auto\"\n");
        Run("-c", path, "-i", "--set", set);
        Assert.Contains(written, File.ReadAllText(path));
    }

    [Fact]
    public void A_directory_as_the_config_file_is_named_as_such()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<GantryException>(() => Run("-c", dir.Path, "--set", "nvidia-container-runtime.mode=cdi"));
        Assert.Equal($"config file {dir.Path} is a directory; name the config.toml file itself with --config-file (-c)", e.Message);
        var load = Assert.Throws<GantryException>(() => ToolkitConfigFile.Load(dir.Path));
        Assert.Equal($"config file {dir.Path} is a directory, not a file", load.Message);
    }

    [Fact]
    public void An_output_in_an_immutable_directory_names_the_directory_and_no_temp_file()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("locked"));
        using var immutable = Gantry.Tests.Support.Immutable.TrySet(dir.File("locked"));
        if (immutable is null) return; // chattr +i is not available here
        var output = dir.File("locked/config.toml");
        var e = Assert.Throws<GantryException>(() => Run("-c", dir.File("none.toml"), "-o", output));
        Assert.Equal($"cannot write {output}: the directory {dir.File("locked")} is immutable (chattr +i); no file can be created or replaced in it", e.Message);
    }

    [Fact]
    public void Set_on_a_missing_file_renders_the_defaults_with_the_change()
    {
        using var dir = new TempDir();
        var text = Run("-c", dir.File("none.toml"), "--set", "nvidia-container-runtime.runtimes=crun:runc", "--set", "features.allow-unknown-oci-spec-fields",
            "--set", "swarm-resource=A,B");
        Assert.Contains("runtimes = [\"crun\", \"runc\"]", text);
        Assert.Contains("\n[features]\nallow-unknown-oci-spec-fields = true\n", text);
        Assert.Contains("\nswarm-resource = \"A,B\"\n", text);
    }

    [Fact]
    public void In_place_editing_keeps_comments_and_unknown_keys()
    {
        using var dir = new TempDir();
        var path = dir.Write("config.toml", "# site config\nmy-key = 1\n\n[nvidia-container-runtime]\n# log level for ops\nlog-level = \"info\"\n\n[features]\nallow-unknown-oci-spec-fields = true\n");
        Run("-c", path, "-i", "--set", "nvidia-container-runtime.log-level=debug", "--set", "features.allow-unknown-oci-spec-fields=nil", "--set", "nvidia-container-cli.environment=A=1,B=2");
        Assert.Equal("# site config\nmy-key = 1\n\n[nvidia-container-runtime]\n# log level for ops\nlog-level = \"debug\"\n\n[features]\n\n[nvidia-container-cli]\nenvironment = [\"A=1\", \"B=2\"]\n",
            File.ReadAllText(path));
    }

    [Theory]
    [InlineData("no-such-key=1", "is not a config option")]
    [InlineData("nvidia-container-runtime.mode", "expected nvidia-container-runtime.mode=VALUE")]
    [InlineData("disable-require=maybe", "is not a boolean")]
    public void Bad_sets_are_clear_usage_errors(string set, string message) =>
        Assert.Contains(message, Assert.Throws<UsageException>(() => Run("-c", "/nonexistent/c.toml", "--set", set)).Message);

    [Fact]
    public void A_set_that_makes_the_config_invalid_is_refused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<GantryException>(() => Run("-c", dir.File("c.toml"), "-o", dir.File("out.toml"), "--set", "nvidia-container-cli.ldconfig=/sbin/ldconfig"));
        Assert.Contains("not host-relative", e.Message);
        Assert.False(File.Exists(dir.File("out.toml")));
    }
}

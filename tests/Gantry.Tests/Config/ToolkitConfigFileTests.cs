using Gantry.Common;
using Gantry.Config;

namespace Gantry.Tests.Config;

public sealed class ToolkitConfigFileTests
{
    static Func<string, string?> Env(params (string, string)[] vars) =>
        name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    [Fact]
    public void The_explicit_variable_wins_over_xdg_and_etc() =>
        Assert.Equal("/x/c.toml", ToolkitConfigFile.DefaultPath(Env(("NVIDIA_CTK_CONFIG_FILE_PATH", "/x/c.toml"), ("XDG_CONFIG_HOME", "/xdg"))));

    [Fact]
    public void Xdg_config_home_is_used_when_set() =>
        Assert.Equal("/xdg/nvidia-container-runtime/config.toml", ToolkitConfigFile.DefaultPath(Env(("XDG_CONFIG_HOME", "/xdg"))));

    [Fact]
    public void Etc_is_the_fallback_and_empty_values_count_as_unset() =>
        Assert.Equal("/etc/nvidia-container-runtime/config.toml",
            ToolkitConfigFile.DefaultPath(Env(("NVIDIA_CTK_CONFIG_FILE_PATH", ""), ("XDG_CONFIG_HOME", ""))));

    [Fact]
    public void A_missing_file_gives_the_defaults()
    {
        using var dir = new TempDir();
        var c = ToolkitConfigFile.Load(dir.File("absent.toml"));
        Assert.Equal("auto", c.NvidiaContainerRuntime.Mode);
        Assert.Equal(["runc", "crun"], c.NvidiaContainerRuntime.Runtimes);
        Assert.True(c.AcceptsEnvvarWhenUnprivileged);
        Assert.True(c.NvidiaContainerCli.LoadKmods);
        Assert.Null(c.Features.AllowUnknownOciSpecFields);
    }

    [Fact]
    public void Keys_in_the_file_override_defaults_and_absent_keys_keep_them()
    {
        using var dir = new TempDir();
        var path = dir.Write("config.toml", """
            # a comment
            disable-require = true
            accept-nvidia-visible-devices-envvar-when-unprivileged = false
            unknown-top = 1

            [nvidia-container-cli]
            root = "/run/nvidia/driver"
            environment = ["A=1", "B=2"]
            ldconfig = "@/sbin/ldconfig"

            [nvidia-container-runtime]
            mode = "cdi"
            runtimes = ["crun"]

            [nvidia-container-runtime.modes.cdi]
            spec-dirs = ["/my/cdi"]

            [nvidia-container-runtime.modes.jit-cdi]
            nvcdi-feature-flags = ["x"]

            [features]
            allow-unknown-oci-spec-fields = true
            """);
        var c = ToolkitConfigFile.Load(path);
        Assert.True(c.DisableRequire);
        Assert.False(c.AcceptsEnvvarWhenUnprivileged);
        Assert.Equal("/run/nvidia/driver", c.NvidiaContainerCli.Root);
        Assert.Equal(["A=1", "B=2"], c.NvidiaContainerCli.Environment);
        Assert.Equal("cdi", c.NvidiaContainerRuntime.Mode);
        Assert.Equal(["crun"], c.NvidiaContainerRuntime.Runtimes);
        Assert.Equal(["/my/cdi"], c.NvidiaContainerRuntime.CdiSpecDirs);
        Assert.Equal(["x"], c.NvidiaContainerRuntime.JitCdiFeatureFlags!);
        Assert.Equal("nvidia.com/gpu", c.NvidiaContainerRuntime.CdiDefaultKind);
        Assert.Equal("info", c.NvidiaContainerRuntime.LogLevel);
        Assert.True(c.Features.AllowUnknownOciSpecFields);
        Assert.Null(c.Features.DisableImexChannelCreation);
    }

    [Fact]
    public void A_malformed_file_names_the_file_and_the_line()
    {
        using var dir = new TempDir();
        var path = dir.Write("config.toml", "disable-require = false\n\n[nvidia-container-cli\nroot = \"/x\"\n");
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Load(path));
        Assert.StartsWith($"{path}:3:", e.Message);
        Assert.Contains("invalid TOML", e.Message);
    }

    [Fact]
    public void A_duplicate_key_is_an_error_with_its_line()
    {
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Parse("[nvidia-ctk]\npath = \"a\"\npath = \"b\"\n", "c.toml"));
        Assert.StartsWith("c.toml:3:", e.Message);
    }

    [Fact]
    public void A_value_of_the_wrong_type_names_the_key()
    {
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Parse("[nvidia-container-runtime]\nruntimes = \"runc\"\n", "c.toml"));
        Assert.Equal("c.toml: nvidia-container-runtime.runtimes must be an array of strings, not the string \"runc\"", e.Message);
    }

    [Fact]
    public void An_ldconfig_that_is_not_host_relative_is_rejected_unless_allowed()
    {
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Parse("[nvidia-container-cli]\nldconfig = \"/sbin/ldconfig\"\n", "c.toml"));
        Assert.Contains("is not host-relative (does not start with a '@')", e.Message);
        var ok = ToolkitConfigFile.Parse("[nvidia-container-cli]\nldconfig = \"/sbin/ldconfig\"\n[features]\nallow-ldconfig-from-container = true\n", "c.toml");
        Assert.Equal("/sbin/ldconfig", ok.NvidiaContainerCli.Ldconfig);
    }

    [Fact]
    public void An_unreadable_path_is_an_error_not_the_defaults()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("config.toml"));
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Load(dir.File("config.toml")));
        Assert.Contains(dir.File("config.toml"), e.Message);
    }
}

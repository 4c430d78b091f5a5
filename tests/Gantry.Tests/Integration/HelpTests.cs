using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// --help works on every command a new user tries it on, and says only what is true.
public sealed class HelpTests
{
    [BinaryTheory]
    [InlineData("nvidia-ctk", "cdi list --help", "--spec-dir")]
    [InlineData("nvidia-ctk", "cdi list -h", "--spec-dir")]
    [InlineData("gantry", "cdi validate --help", "USAGE: gantry cdi validate [--host] FILE...")]
    [InlineData("nvidia-ctk", "cdi --help", "generate")]
    [InlineData("nvidia-ctk", "runtime unconfigure --help", "--drop-in-config")]
    [InlineData("nvidia-ctk", "cdi generate --help", "--device-id")]
    public void Help_is_printed_with_exit_0(string name, string args, string expected)
    {
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, name), args.Split(' '));
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains(expected, r.Stdout);
        Assert.DoesNotContain("flag provided but not defined", r.Combined);
    }

    [BinaryFact]
    public void Unconfigure_help_lists_only_the_options_it_uses()
    {
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "runtime", "unconfigure", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var unused in new[] { "--nvidia-runtime-path", "--nvidia-set-as-default", "--cdi.enabled", "--nvidia-runtime-hook-path", "--unset" })
            Assert.DoesNotContain(unused, r.Stdout);
        foreach (var used in new[] { "--runtime", "--config", "--drop-in-config", "--nvidia-runtime-name", "--dry-run", "--config-source" })
            Assert.Contains(used, r.Stdout);
        var configure = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "runtime", "configure", "--help");
        Assert.Contains("--nvidia-set-as-default", configure.Stdout);
    }

    [BinaryFact]
    public void Generate_help_says_each_default_once()
    {
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "generate", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("(default: all) (default: all)", r.Stdout);
        Assert.Contains("the devices to generate (default: all)", r.Stdout);
    }

    [BinaryFact]
    public void Gantry_help_names_every_name_it_answers_to()
    {
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var name in new[] { "nvidia-ctk", "nvidia-cdi-hook", "nvidia-container-cli", "nvidia-container-runtime-hook", "nvidia-container-toolkit",
                     "nvidia-docker", "nvidia-container-runtime,", "nvidia-container-runtime.cdi", "nvidia-container-runtime.legacy", "nvidia-docker-plugin" })
            Assert.Contains(name, r.Stdout);
    }
}

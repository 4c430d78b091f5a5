using Gantry.Common;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// Tools and scripts parse the version lines of the original names: each prints the original's shape with the toolkit
// version Gantry is compatible with, and Gantry's own version on a line of its own.
public sealed class VersionTests
{
    static readonly string Tk = VersionInfo.ToolkitVersion, Own = $"gantry version {VersionInfo.Version}";

    [BinaryTheory]
    [InlineData("nvidia-ctk", "--version", "NVIDIA Container Toolkit CLI version ")]
    [InlineData("nvidia-ctk", "-v", "NVIDIA Container Toolkit CLI version ")]
    [InlineData("nvidia-cdi-hook", "--version", "NVIDIA CDI Hook version ")]
    [InlineData("nvidia-container-runtime-hook", "-version", "NVIDIA Container Runtime Hook version ")]
    [InlineData("nvidia-container-toolkit", "--version", "NVIDIA Container Runtime Hook version ")]
    public void The_go_tools_print_name_version_commit_then_gantry(string name, string flag, string first)
    {
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, name), flag);
        Assert.True(r.ExitCode == 0, r.Combined);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(first + Tk, lines[0]);
        Assert.StartsWith("commit: ", lines[1]);
        Assert.Equal(Own, lines[^1]);
    }

    [BinaryFact]
    public void The_runtime_prints_its_lines_and_the_spec_version_before_runcs()
    {
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime"), "--version");
        Assert.StartsWith($"NVIDIA Container Runtime version {Tk}\ncommit: gantry\nspec: 1.3.0\n{Own}\n\n", r.Stdout);
    }

    [BinaryTheory]
    [InlineData("--version")]
    [InlineData("-V")]
    public void Nvidia_container_cli_prints_cli_and_lib_versions(string flag)
    {
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli"), flag);
        Assert.True(r.ExitCode == 0, r.Combined);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal($"cli-version: {Tk}", lines[0]);
        Assert.Equal($"lib-version: {Tk}", lines[1]);
        Assert.StartsWith("build date: ", lines[2]);
        Assert.Equal(Own, lines[^1]);
    }

    [BinaryTheory]
    [InlineData("nvidia-container-cli", "--help", "Usage: nvidia-container-cli")]
    [InlineData("nvidia-container-cli", "--usage", "Usage: nvidia-container-cli")]
    [InlineData("nvidia-container-cli", "list --help", "--libraries")]
    [InlineData("nvidia-container-cli", "info --help", "--csv")]
    [InlineData("nvidia-container-cli", "configure --help", "--no-cgroups")]
    [InlineData("nvidia-container-cli", "list --version", "cli-version: ")]
    [InlineData("nvidia-container-cli", "info --usage", "Usage: nvidia-container-cli info")]
    [InlineData("nvidia-container-runtime-hook", "--help", "-config")]
    [InlineData("nvidia-cdi-hook", "--help", "create-symlinks")]
    public void Help_and_usage_answer(string name, string args, string expected)
    {
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, name), args.Split(' '));
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains(expected, r.Stdout + r.Stderr);
    }

    [BinaryFact]
    public void Gantry_names_its_version_and_the_toolkit_it_stands_in_for()
    {
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "--version");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"gantry version {VersionInfo.Version}\ncompatible with NVIDIA Container Toolkit {Tk}\n", r.Stdout);
    }
}

using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// Builds simulated hosts with the published binary, the way a user would.
internal static class Sim
{
    public static TempDir Host(params string[] simulateArgs)
    {
        var dir = new TempDir();
        var r = TestEnvironment.Run(TestEnvironment.Gantry, ["simulate", dir["host"], .. simulateArgs]);
        Assert.True(r.ExitCode == 0, $"gantry simulate failed: {r.Combined}");
        return dir;
    }

    public static ProcessResult Generate(string driverRoot, params string[] args) =>
        TestEnvironment.Run(TestEnvironment.NvidiaCtk, ["cdi", "generate", $"--driver-root={driverRoot}", "--nvidia-cdi-hook-path=/usr/bin/nvidia-cdi-hook", .. args]);

    /// <summary>A spec with the simulated root replaced by a placeholder, so it can be compared with a golden file.</summary>
    public static string Normalize(string spec, string root) => spec.Replace(root, "{{ROOT}}");

    /// <summary>Compares with tests/fixtures/cdi/NAME; GANTRY_APPROVE=1 rewrites the golden instead.</summary>
    public static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(TestEnvironment.RepoRoot, "tests/fixtures/cdi", name);
        if (Environment.GetEnvironmentVariable("GANTRY_APPROVE") == "1") { File.WriteAllText(path, actual); return; }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests with GANTRY_APPROVE=1 once and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}

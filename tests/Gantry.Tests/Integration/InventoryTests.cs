using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// Issue 17: the published binaries on a simulated host that changes under them. NVML (the stand-in, whose
// GANTRY_NVML_DEBUG line says it was started) is asked on the first start and again only after the host changed.
public sealed class InventoryTests
{
    static ProcessResult Cli(TempDir d, string program, params string[] args) =>
        TestEnvironment.Run("/usr/bin/env", ["GANTRY_NVML_DEBUG=1", $"GANTRY_INVENTORY_DIR={d["inventory"]}", program, .. args]);

    static bool NvmlStarted(ProcessResult r) => r.Stderr.Contains("gantry-nvml-standin: facts");

    [BinaryFact]
    public void Nvidia_container_cli_info_asks_nvml_once_per_host_state()
    {
        if (!TestEnvironment.IsRoot) return; // the inventory is root's only; as another user every start asks NVML
        using var d = Sim.Host("--gpus", "2");
        var cli = Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli");
        var first = Cli(d, cli, $"--root={d["host"]}", "info");
        Assert.True(first.ExitCode == 0, first.Combined);
        Assert.True(NvmlStarted(first), first.Stderr);
        var second = Cli(d, cli, $"--root={d["host"]}", "info");
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.False(NvmlStarted(second), second.Stderr);

        var upgrade = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--driver", "560.35.03", "--gpus", "3");
        Assert.True(upgrade.ExitCode == 0, upgrade.Combined);
        var third = Cli(d, cli, $"--root={d["host"]}", "info");
        Assert.True(NvmlStarted(third), third.Stderr);
        Assert.Contains("560.35.03", third.Stdout);
        Assert.Contains("Device Index:   2", third.Stdout);
        Assert.DoesNotContain("550.54.15", third.Stdout);
    }

    [BinaryFact]
    public void Simulate_update_upgrades_the_driver_in_place_and_keeps_what_is_not_the_drivers()
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "0:2");
        File.WriteAllText(d["host/cdi-user-file.yaml"].EnsureParentDir(), "kept\n");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--driver", "560.35.03", "--persistence", "off", "--nvml-init-delay", "40");
        Assert.True(r.ExitCode == 0, r.Combined);
        var lib = d["host/usr/lib/x86_64-linux-gnu"];
        Assert.True(File.Exists(lib + "/libcuda.so.560.35.03"));
        Assert.False(File.Exists(lib + "/libcuda.so.550.54.15"));
        Assert.False(Directory.Exists(d["host/lib/firmware/nvidia/550.54.15"]));
        Assert.Contains("560.35.03", File.ReadAllText(d["host/proc/driver/nvidia/version"]));
        Assert.True(Directory.Exists(d["host/proc/driver/nvidia/capabilities/gpu0/mig"]), "the MIG layout was kept");
        var facts = File.ReadAllText(lib + "/gantry-nvml-facts.txt");
        Assert.Contains("persistence 0", facts);
        Assert.Contains("init-delay-ms 40", facts);
        Assert.Equal("kept\n", File.ReadAllText(d["host/cdi-user-file.yaml"]));

        var off = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--mig", "none");
        Assert.True(off.ExitCode == 0, off.Combined);
        Assert.False(Directory.Exists(d["host/proc/driver/nvidia/capabilities/gpu0"]));
        Assert.True(File.Exists(lib + "/libcuda.so.560.35.03"), "the upgraded driver was kept");
    }

    [BinaryFact]
    public void Simulate_update_of_a_directory_that_is_no_simulated_host_is_refused()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["plain"]);
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["plain"], "--update", "--driver", "560.35.03");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("not a simulated host", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(d["plain"]));
    }
}

internal static class PathTestExtensions
{
    public static string EnsureParentDir(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}

using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// Issue 17, part 2: after a driver upgrade or a MIG change, `cdi refresh` rewrites the spec (only when it changed),
// `cdi validate --host` and the runtime in cdi mode name a stale spec and the fix.
public sealed class CdiRefreshTests
{
    static ProcessResult Refresh(TempDir d) =>
        TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "refresh", $"--driver-root={d["host"]}", $"--output={d["cdi/nvidia.yaml"]}",
            "--nvidia-cdi-hook-path=/usr/bin/true");

    [BinaryFact]
    public void Refresh_writes_keeps_an_unchanged_spec_and_follows_an_upgrade_and_a_mig_change()
    {
        using var d = Sim.Host("--gpus", "2");
        var first = Refresh(d);
        Assert.True(first.ExitCode == 0, first.Combined);
        Assert.Contains("Wrote CDI spec", first.Stderr);
        Assert.True(FileStatus.TryLstat(d["cdi/nvidia.yaml"], out var written));

        var again = Refresh(d);
        Assert.Contains("is current", again.Stderr);
        Assert.True(FileStatus.TryLstat(d["cdi/nvidia.yaml"], out var kept));
        Assert.Equal(written.Inode, kept.Inode);
        Assert.Single(Directory.GetFiles(d["cdi"]));

        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--driver", "560.35.03").ExitCode);
        var stale = TestEnvironment.Run(TestEnvironment.Gantry, "cdi", "validate", "--host", $"--driver-root={d["host"]}", d["cdi/nvidia.yaml"]);
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains($"CDI spec {d["cdi/nvidia.yaml"]} no longer matches this host: ", stale.Stdout);
        Assert.Contains(".so.550.54.15 does not exist", stale.Stdout);
        Assert.Contains("it was made for driver 550.54.15 and driver 560.35.03 is running", stale.Stdout);
        Assert.Contains("nvidia-ctk cdi refresh", stale.Stdout);

        var upgraded = Refresh(d);
        Assert.Contains("(driver 550.54.15 -> 560.35.03)", upgraded.Stderr);
        Assert.Contains("libcuda.so.560.35.03", File.ReadAllText(d["cdi/nvidia.yaml"]));
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "cdi", "validate", "--host", $"--driver-root={d["host"]}", d["cdi/nvidia.yaml"]).ExitCode);

        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--mig", "1:2").ExitCode);
        var mig = Refresh(d);
        Assert.Contains("(devices or files changed)", mig.Stderr);
        Assert.Contains("nvidia.com/gpu=1:1", TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "list", $"--spec-dir={d["cdi"]}").Stdout);
    }

    // With enable-coherent-annotations the split specs are refreshed with the main one, and a split left without
    // devices goes (here GPU 0 stops being coherent, so the .coherent spec would offer a GPU that is not).
    [BinaryFact]
    public void Refresh_keeps_the_coherence_split_specs_with_the_host()
    {
        using var d = Sim.Host("--gpus", "2", "--addressing-mode", "0:ats", "--device-nodes", "plain");
        ProcessResult RefreshSplit() => TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "refresh", $"--driver-root={d["host"]}",
            $"--output={d["cdi/nvidia.yaml"]}", "--nvidia-cdi-hook-path=/usr/bin/true", "--feature-flag=enable-coherent-annotations");
        var first = RefreshSplit();
        Assert.True(first.ExitCode == 0, first.Combined);
        Assert.Equal(["nvidia.coherent.yaml", "nvidia.noncoherent.yaml", "nvidia.yaml"], Directory.GetFiles(d["cdi"]).Select(Path.GetFileName).Order());
        Assert.Contains("is current", RefreshSplit().Stderr);

        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--addressing-mode", "0:hmm").ExitCode);
        var changed = RefreshSplit();
        Assert.True(changed.ExitCode == 0, changed.Combined);
        Assert.Contains("Removed CDI spec " + d["cdi/nvidia.coherent.yaml"], changed.Stderr);
        Assert.Equal(["nvidia.noncoherent.yaml", "nvidia.yaml"], Directory.GetFiles(d["cdi"]).Select(Path.GetFileName).Order());
        var list = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "list", $"--spec-dir={d["cdi"]}").Stdout;
        Assert.Contains("nvidia.com/gpu.noncoherent=0", list);
        Assert.DoesNotContain("nvidia.com/gpu.coherent=", list);
    }
}

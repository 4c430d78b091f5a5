using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// Issue 17, part 2, through a real engine: Podman reads the spec directories itself, so after a driver upgrade of
// the (simulated) host the next container fails with the stale spec until `cdi refresh` runs, and then sees the
// new driver's libraries. The spec has its own vendor so it never meets PodmanCdiTests' nvidia.com specs.
public sealed class PodmanCdiRefreshTests
{
    const string Kind = "refresh.gantry.example.com/gpu";

    [EngineFact("podman")]
    public void After_a_driver_upgrade_refresh_gives_the_next_container_the_new_libraries()
    {
        using var d = new TempDir();
        var podman = new Podman(d["podman"]);
        var spec = $"/var/run/cdi/gantry-e2e-refresh-{Environment.ProcessId}.yaml";
        try
        {
            Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--gpus", "1", "--device-nodes", "char").ExitCode);
            Directory.CreateDirectory("/var/run/cdi");
            ProcessResult Refresh() => TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "refresh", $"--driver-root={d["host"]}", $"--output={spec}",
                "--vendor=refresh.gantry.example.com", $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook");
            var first = Refresh();
            Assert.True(first.ExitCode == 0, first.Combined);
            Assert.Equal(0, podman.Import(BusyboxImage.BuildTar(d.Path), PodmanHost.Image).ExitCode);
            const string Probe = "ls /usr/lib/x86_64-linux-gnu/ | grep '^libcuda.so.5'";
            var before = podman.Run(PodmanHost.Image, [$"{Kind}=0"], Probe);
            Assert.True(before.ExitCode == 0, before.Combined);
            Assert.Contains("libcuda.so.550.54.15", before.Stdout);

            Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--update", "--driver", "560.35.03").ExitCode);
            var refreshed = Refresh();
            Assert.True(refreshed.ExitCode == 0, refreshed.Combined);
            Assert.Contains("(driver 550.54.15 -> 560.35.03)", refreshed.Stderr);
            var after = podman.Run(PodmanHost.Image, [$"{Kind}=0"], Probe);
            Assert.True(after.ExitCode == 0, after.Combined);
            Assert.Contains("libcuda.so.560.35.03", after.Stdout);
            Assert.DoesNotContain("550.54.15", after.Stdout);
        }
        finally
        {
            if (File.Exists(spec)) File.Delete(spec);
        }
    }
}

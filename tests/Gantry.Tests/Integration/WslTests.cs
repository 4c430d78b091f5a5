using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// A simulated WSL2 guest: /dev/dxg, /usr/lib/wsl/lib with libdxcore, the driver store under /usr/lib/wsl/drivers.
public sealed class WslTests
{
    [BinaryFact]
    public void Nvidia_container_cli_names_a_wsl_host_and_the_routes_that_handle_it()
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain");
        foreach (var sub in new[] { "info", "list" })
        {
            var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli"), $"--root={d["host"]}", sub);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("is a WSL2 host", r.Stderr);
            Assert.Contains("nvidia-ctk cdi generate --mode=wsl", r.Stderr);
        }
    }

    [BinaryFact]
    public void The_simulated_guest_has_the_wsl_shape()
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain");
        var store = d["host/usr/lib/wsl/drivers/nvmii.inf_amd64_0123456789abcdef"];
        foreach (var f in new[] { "libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ml.so.1", "libnvdxgdmal.so.1", "nvcubins.bin", "nvidia-smi" })
            Assert.True(File.Exists(Path.Combine(store, f)), f);
        Assert.True(File.Exists(d["host/usr/lib/wsl/lib/libdxcore.so"]));
        Assert.True(File.Exists(d["host/dev/dxg"]));
        Assert.False(Directory.EnumerateFileSystemEntries(d["host/dev"], "nvidia*").Any());
        Assert.False(Directory.Exists(d["host/proc/driver/nvidia"]));
    }

    [BinaryTheory]
    [InlineData("--mode=wsl")]
    [InlineData("--mode=auto")]
    public void Wsl_and_auto_mode_give_the_golden_spec(string mode)
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], mode);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-wsl.yaml", Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryFact]
    public void Wsl_mode_on_a_native_host_is_an_error()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--mode=wsl");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("this is not a WSL2 guest", r.Stderr);
    }
}

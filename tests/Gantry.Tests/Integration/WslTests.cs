using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// A simulated WSL2 guest: /dev/dxg, /usr/lib/wsl/lib with libdxcore, the driver store under /usr/lib/wsl/drivers.
public sealed class WslTests
{
    [BinaryFact]
    public void Nvidia_container_cli_lists_dxg_the_lxss_libraries_and_the_store_nvidia_smi()
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain");
        var cli = Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli");
        var r = TestEnvironment.Run(cli, $"--root={d["host"]}", "list", "--device=all", "--libraries", "--binaries", "--utility", "--compute");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("/dev/dxg\n/usr/lib/wsl/drivers/nvmii.inf_amd64_0123456789abcdef/nvidia-smi\n/usr/lib/wsl/lib/libnvidia-ml.so.1\n" +
                     "/usr/lib/wsl/lib/libcuda.so.1\n/usr/lib/wsl/lib/libnvidia-ptxjitcompiler.so.1\n/usr/lib/wsl/lib/libdxcore.so\n", r.Stdout);
        // Without a GPU there is no /dev/dxg to list, and libdxcore comes whatever the capabilities.
        var utility = TestEnvironment.Run(cli, $"--root={d["host"]}", "list", "--libraries", "--utility");
        Assert.Equal("/usr/lib/wsl/lib/libnvidia-ml.so.1\n/usr/lib/wsl/lib/libdxcore.so\n", utility.Stdout);
    }

    [BinaryFact]
    public void Nvidia_container_cli_without_the_store_nvml_says_so()
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain", "--without", "nvml");
        var r = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli"), $"--root={d["host"]}", "info");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("nvidia-container-cli: initialization error: nvml error: ", r.Stderr);
        Assert.Contains("/usr/lib/wsl/drivers/nvmii.inf_amd64_0123456789abcdef", r.Stderr);
    }

    [RootFact]
    public void Configure_gives_a_container_dxg_the_libraries_and_the_driver_store()
    {
        using var d = Sim.Host("--wsl", "--gpus", "2", "--device-nodes", "char");
        using var c = new ConfigureContainer(d["host"]);
        var r = c.Configure("--device=all", "--compute", "--utility", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        var inside = c.Inside("ls /dev; echo ---; /sbin/ldconfig -p; echo ---; nvidia-smi -L; echo ---; ls /usr/lib/wsl/drivers/*; echo ---; test -e /proc/driver/nvidia && echo procfs; true");
        Assert.True(inside.ExitCode == 0, inside.Combined);
        var parts = inside.Stdout.Split("---\n");
        var dev = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("dxg", dev);
        Assert.DoesNotContain(dev, n => n.StartsWith("nvidia", StringComparison.Ordinal));
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", parts[1]);
        Assert.Contains("libdxcore.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libdxcore.so", parts[1]);
        Assert.Equal("GPU 0: NVIDIA A100-SXM4-40GB", parts[2].Split(" (UUID")[0]);
        Assert.Contains("GPU 1: ", parts[2]);
        Assert.Equal(["libcuda.so.1.1", "libcuda_loader.so", "libnvdxgdmal.so.1", "libnvidia-ml.so.1", "libnvidia-ml_loader.so",
                      "libnvidia-ptxjitcompiler.so.1", "nvcubins.bin", "nvidia-smi"], parts[3].Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("procfs", parts[4]); // no /proc/driver/nvidia tmpfs on WSL
        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/lib/wsl/drivers/nvmii.inf_amd64_0123456789abcdef/libcuda.so.1.1"));
        Assert.StartsWith("ro,nosuid,noexec", c.MountOptions("/dev/dxg"));
        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/bin/nvidia-smi"));
        c.Tree.AssertSentinelUntouched();
    }

    [BinaryFact]
    public void Gantry_info_reads_the_store_nvml_and_names_dxg()
    {
        using var d = Sim.Host("--wsl", "--gpus", "2", "--device-nodes", "plain");
        var text = TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", d["host"]);
        Assert.True(text.ExitCode == 0, text.Combined);
        Assert.Contains("Driver version:  550.54.15", text.Stdout);
        Assert.Contains("GPU facts from:  NVML", text.Stdout);
        Assert.Contains("GPUs:            2", text.Stdout);
        Assert.Contains("WSL2 guest:      every GPU behind /dev/dxg; driver store " + d["host/usr/lib/wsl/drivers/"], text.Stdout);
        Assert.Contains("  Device node:        /dev/dxg\n", text.Stdout);
        Assert.DoesNotContain("/dev/nvidia", text.Stdout);
        var json = TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", d["host"], "--json");
        Assert.True(json.ExitCode == 0, json.Combined);
        Assert.Contains("\"wslDriverStore\": \"" + d["host/usr/lib/wsl/drivers/"], json.Stdout);
    }

    [BinaryFact]
    public void Gantry_doctor_checks_the_store_instead_of_a_native_driver()
    {
        using var d = Sim.Host("--wsl", "--gpus", "1", "--device-nodes", "plain");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "doctor", "--driver-root", d["host"]);
        Assert.Matches(@"ok +driver +WSL2 guest: driver 550\.54\.15 \(CUDA 12\.4\) from the store .*/usr/lib/wsl/drivers/[^ ]+, 1 GPU\(s\) behind /dev/dxg", r.Stdout);
        Assert.DoesNotContain("device-nodes", r.Stdout);
        Assert.DoesNotContain("persistenced", r.Stdout);

        File.Delete(Directory.GetFiles(d["host/usr/lib/wsl/drivers"], "libnvidia-ml.so.1", SearchOption.AllDirectories)[0]);
        var broken = TestEnvironment.Run(TestEnvironment.Gantry, "doctor", "--driver-root", d["host"]);
        Assert.Matches(@"problem +driver +", broken.Stdout);
        Assert.Contains("install or repair the NVIDIA driver on Windows", broken.Stdout);
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

using System.Text.Json;
using Gantry.Discovery;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

public sealed class SimulateTests
{
    [BinaryFact]
    public void A_simulated_host_has_real_libraries_a_valid_ld_cache_and_the_driver_files()
    {
        using var d = Sim.Host("--gpus", "2");
        var lib = d["host/usr/lib/x86_64-linux-gnu"];
        Assert.Equal("libcuda.so.550.54.15", new FileInfo(lib + "/libcuda.so.1").LinkTarget);
        Assert.True(Gantry.Elf.ElfReader.TryRead(lib + "/libcuda.so.550.54.15", out var elf, out _));
        Assert.Equal("libcuda.so.1", elf!.Soname);
        Assert.True(LdCache.TryLoad(d["host/etc/ld.so.cache"], out var cache, out _));
        Assert.Contains(cache!.Entries, e => e.Key == "libcuda.so.1" && e.Value == "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
        foreach (var f in new[] { "usr/bin/nvidia-smi", "lib/firmware/nvidia/550.54.15/gsp_ga10x.bin", "usr/share/vulkan/icd.d/nvidia_icd.json",
                     "etc/OpenCL/vendors/nvidia.icd", "proc/driver/nvidia/version", "proc/driver/nvidia/params", "proc/devices",
                     "proc/driver/nvidia/gpus/0000:0f:00.0/information", "sys/bus/pci/devices/0000:07:00.0/drm/card1", "dev/nvidiactl", "dev/nvidia1",
                     "run/nvidia-persistenced/socket" })
            Assert.True(Gantry.Host.FileStatus.TryLstat(d["host/" + f], out _), $"{f} is missing");
        Assert.True(Gantry.Host.FileStatus.TryLstat(d["host/run/nvidia-persistenced/socket"], out var sock));
        Assert.Equal(0xC000, sock.Mode & 0xF000);
    }

    [BinaryFact]
    public void Info_reads_the_simulated_facts_through_the_nvml_stand_in()
    {
        using var d = Sim.Host("--gpus", "3", "--mig", "2:3", "--model", "NVIDIA H100 80GB HBM3");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "info", "--json", $"--driver-root={d["host"]}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(r.Stdout);
        var root = json.RootElement;
        Assert.Equal("550.54.15", root.GetProperty("driverVersion").GetString());
        Assert.Equal("12.4", root.GetProperty("cudaVersion").GetString());
        Assert.Equal("nvml", root.GetProperty("gpuSource").GetString());
        var gpus = root.GetProperty("gpus");
        Assert.Equal(3, gpus.GetArrayLength());
        Assert.Equal("9.0", gpus[0].GetProperty("computeCapability").GetString());
        Assert.Equal("NVIDIA H100 80GB HBM3", gpus[1].GetProperty("model").GetString());
        Assert.Equal("00000000:47:00.0", gpus[2].GetProperty("busId").GetString());
        Assert.StartsWith("GPU-", gpus[2].GetProperty("uuid").GetString());
        Assert.Equal(3, gpus[2].GetProperty("migDevices").GetArrayLength());
        Assert.Equal("2:1", gpus[2].GetProperty("migDevices")[1].GetProperty("id").GetString());
    }

    [BinaryFact]
    public void Without_nvml_info_says_which_facts_are_unknown()
    {
        using var d = Sim.Host("--gpus", "1", "--without", "nvml");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "info", $"--driver-root={d["host"]}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("GPU facts from:  /proc/driver/nvidia (NVML unavailable)", r.Stdout);
        Assert.Contains("Compute capability: unknown", r.Stdout);
        Assert.Contains("compute capability, memory, brand and MIG devices are unknown", r.Stderr);
    }

    [BinaryFact]
    public void Parts_can_be_left_out()
    {
        using var d = Sim.Host("--gpus", "1", "--without", "firmware", "--without", "graphics", "--without", "ipc");
        Assert.False(Directory.Exists(d["host/lib/firmware"]));
        Assert.False(File.Exists(d["host/usr/share/vulkan/icd.d/nvidia_icd.json"]));
        Assert.False(File.Exists(d["host/usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.550.54.15"]));
        Assert.False(Gantry.Host.FileStatus.TryLstat(d["host/run/nvidia-persistenced/socket"], out _));
    }

    [BinaryTheory]
    [InlineData("--gpus", "0", "--gpus must be between 1 and 16")]
    [InlineData("--gpus", "17", "--gpus must be between 1 and 16")]
    [InlineData("--driver", "latest", "--driver must look like")]
    [InlineData("--mig", "5:2", "--mig takes GPU:COUNT")]
    [InlineData("--without", "everything", "--without takes")]
    public void Bad_options_are_usage_errors(string flag, string value, string message)
    {
        using var d = new TempDir();
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], flag, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
    }

    [BinaryFact]
    public void A_non_empty_directory_that_is_not_a_simulated_host_is_refused()
    {
        using var d = new TempDir();
        File.WriteAllText(d["precious.txt"], "keep me");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not empty and not a simulated host", r.Stderr);
        Assert.Equal("keep me", File.ReadAllText(d["precious.txt"]));
    }

    [BinaryFact]
    public void The_next_steps_keep_the_simulated_spec_out_of_the_machines_cdi_directories()
    {
        using var d = new TempDir();
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", d["host"], "--gpus", "1");
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("--output=/etc/cdi", r.Stdout);
        Assert.Contains($"--output={d["host"]}/cdi/nvidia.yaml", r.Stdout);
        Assert.Contains($"nvidia-ctk cdi list --spec-dir={d["host"]}/cdi", r.Stdout);
    }
}

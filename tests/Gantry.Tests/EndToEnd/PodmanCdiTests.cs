using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>One simulated host, its spec in /var/run/cdi, and a busybox image in a private Podman store.</summary>
public sealed class PodmanHost : IDisposable
{
    internal TempDir Dir { get; }
    internal Podman Podman { get; }
    public string SpecPath { get; } = $"/var/run/cdi/gantry-e2e-{Environment.ProcessId}.yaml";
    public const string Image = "localhost/gantry-e2e-busybox";

    public PodmanHost()
    {
        Dir = new TempDir();
        Podman = new Podman(Dir["podman"]);
        if (TestEnvironment.MissingBinary() is not null || Podman.Binary is null || !TestEnvironment.IsRoot) return;
        var sim = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", Dir["host"], "--gpus", "3", "--mig", "2:2", "--device-nodes", "char");
        Assert.True(sim.ExitCode == 0, sim.Combined);
        Directory.CreateDirectory("/var/run/cdi");
        var gen = Sim.Generate(Dir["host"], $"--output={SpecPath}", $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook");
        Assert.True(gen.ExitCode == 0, gen.Combined);
        var import = Podman.Import(BusyboxImage.BuildTar(Dir.Path), Image);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    internal ProcessResult Run(string device, string script) => Podman.Run(Image, [device], script);

    public void Dispose()
    {
        if (File.Exists(SpecPath)) File.Delete(SpecPath);
        Dir.Dispose();
    }
}

public sealed class PodmanCdiTests(PodmanHost host) : IClassFixture<PodmanHost>
{
    [EngineFact("podman")]
    public void A_container_given_gpu_1_sees_gpu_1_and_not_gpu_0()
    {
        var r = host.Run("nvidia.com/gpu=1", "ls /dev/nvidia0 /dev/nvidia1 /dev/nvidiactl /dev/nvidia-uvm 2>&1; nvidia-smi -L");
        Assert.Contains("/dev/nvidia1\n", r.Stdout);
        Assert.Contains("/dev/nvidiactl\n", r.Stdout);
        Assert.Contains("/dev/nvidia-uvm\n", r.Stdout);
        Assert.Contains("/dev/nvidia0: No such file or directory", r.Stdout);
        Assert.Matches(@"GPU 1: NVIDIA A100-SXM4-40GB \(UUID: GPU-", r.Stdout);
        Assert.DoesNotContain("GPU 0:", r.Stdout);
    }

    [EngineFact("podman")]
    public void The_driver_libraries_are_mounted_read_only()
    {
        var r = host.Run("nvidia.com/gpu=1", "grep libcuda.so.550.54.15 /proc/mounts; echo ok > /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15 2>&1 || echo write-refused");
        Assert.Matches(@"/usr/lib/x86_64-linux-gnu/libcuda\.so\.550\.54\.15 \S+ ro,nosuid,nodev", r.Stdout);
        Assert.Contains("write-refused", r.Stdout);
    }

    [EngineFact("podman")]
    public void The_hooks_leave_libcuda_in_the_containers_ld_cache_and_its_links()
    {
        var r = host.Run("nvidia.com/gpu=1", "ldconfig -p | grep libcuda; readlink /usr/lib/x86_64-linux-gnu/libcuda.so; ls /etc/ld.so.conf.d/");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", r.Stdout);
        Assert.Contains("libcuda.so.1\n", r.Stdout.Split("=>").Last());
        Assert.Matches(@"00-nvcr-\S+\.conf", r.Stdout);
    }

    [EngineFact("podman")]
    public void The_spec_environment_reaches_the_container()
    {
        var r = host.Run("nvidia.com/gpu=0", "env");
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=void", r.Stdout);
        Assert.Contains("NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu", r.Stdout);
    }

    [EngineFact("podman")]
    public void All_gives_every_gpu_and_every_mig_device()
    {
        var r = host.Run("nvidia.com/gpu=all", "ls /dev/nvidia0 /dev/nvidia1 /dev/nvidia2; ls /dev/nvidia-caps | wc -l; nvidia-smi -L");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("GPU 0:", r.Stdout);
        Assert.Contains("GPU 1:", r.Stdout);
        Assert.Contains("GPU 2:", r.Stdout);
        Assert.Contains("\n4\n", r.Stdout);
    }

    [EngineFact("podman")]
    public void A_mig_device_brings_its_parent_and_its_capability_nodes()
    {
        var r = host.Run("nvidia.com/gpu=2:0", "ls /dev/nvidia2 /dev/nvidia-caps/; ls /dev/nvidia0 2>&1");
        Assert.True(r.Stdout.Contains("/dev/nvidia2"), r.Combined);
        Assert.Matches(@"nvidia-cap\d+\s+nvidia-cap\d+", r.Stdout);
        Assert.Contains("/dev/nvidia0: No such file or directory", r.Stdout);
    }
}

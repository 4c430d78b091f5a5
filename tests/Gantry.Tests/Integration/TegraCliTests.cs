using Gantry.Elf;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Simulation;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

/// <summary>
/// A Jetson-like driver root without NVML: /etc/nv_tegra_release, a libcuda behind a symlink chain, a directory, device
/// nodes (character devices as root, else plain files under the simulated-host marker) and CSV mount specs in
/// /etc/nvidia-container-runtime/host-files-for-container.d. Its libraries are x86-64 so this machine's ldconfig indexes them.
/// </summary>
public sealed class TegraCliRoot : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Root => Dir["root"];
    const string Lib = "/usr/lib/x86_64-linux-gnu";

    public TegraCliRoot()
    {
        Write("/etc/nv_tegra_release", "# R36 (release), REVISION: 3.0\n");
        File.WriteAllBytes(At($"{Lib}/tegra/libcuda.so.1.1").EnsureParent(), ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1", ["libc.so.6"]));
        File.WriteAllBytes(At($"{Lib}/tegra/libnvrm_gpu.so"), ElfWriter.SharedObject(ElfArch.X86_64, "libnvrm_gpu.so", ["libc.so.6"]));
        File.CreateSymbolicLink(At($"{Lib}/tegra/libcuda.so.1"), "libcuda.so.1.1");
        File.CreateSymbolicLink(At($"{Lib}/libcuda.so"), "tegra/libcuda.so.1");
        Write("/usr/share/nvidia-tegra/nvidia_icd.json", "{}\n");
        foreach (var node in new[] { "/dev/nvmap", "/dev/nvhost-ctrl", "/dev/nvgpu/igpu0/ctrl", "/dev/nvgpu/igpu0/power" })
        {
            var path = At(node).EnsureParent();
            if (TestEnvironment.IsRoot && FileStatus.MakeCharDevice(path, 1, 3, 0b110_110_110) == 0) continue; // /dev/null's numbers
            File.WriteAllText(path, "");
        }
        Write("/" + SimulatedHostWriter.MarkerFile, "a test's Tegra root\n");
        Write("/etc/nvidia-container-runtime/host-files-for-container.d/devices.csv",
            "dev, /dev/nvmap\ndev, /dev/nvhost-ctrl\ndev, /dev/nvgpu/igpu0/*\ndev, /dev/nvhost-missing\n");
        Write("/etc/nvidia-container-runtime/host-files-for-container.d/drivers.csv",
            $"lib, {Lib}/tegra/libnvrm_gpu.so\nsym, {Lib}/libcuda.so\ndir, /usr/share/nvidia-tegra\nlib, {Lib}/missing.so\nnot a spec line\n");
        Write("/etc/nvidia-container-runtime/host-files-for-container.d/extra.csv", $"lib, {Lib}/tegra/libcuda.so.1.1\n");
    }

    string At(string path) => Path.Combine(Root, path.TrimStart('/'));
    void Write(string path, string text) => File.WriteAllText(At(path).EnsureParent(), text);

    public void Dispose() => Dir.Dispose();
}

// nvidia-container-cli on a Jetson without NVML: what the CSV mount specs name is listed, and configure puts it
// into the container at the same paths (libnvidia-container's Jetson support).
public sealed class TegraCliTests(TegraCliRoot host) : IClassFixture<TegraCliRoot>
{
    static ProcessResult Cli(params string[] args) => TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli"), args);

    [BinaryFact]
    public void List_prints_the_csv_files_the_host_has()
    {
        var r = Cli("--root", host.Root, "list");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("/dev/nvmap\n/dev/nvhost-ctrl\n/dev/nvgpu/igpu0/ctrl\n/dev/nvgpu/igpu0/power\n" +
                     "/usr/lib/x86_64-linux-gnu/tegra/libnvrm_gpu.so\n/usr/lib/x86_64-linux-gnu/tegra/libcuda.so.1.1\n" +
                     "/usr/lib/x86_64-linux-gnu/libcuda.so\n/usr/lib/x86_64-linux-gnu/tegra/libcuda.so.1\n/usr/share/nvidia-tegra\n", r.Stdout);
        Assert.Equal("/dev/nvmap\n/dev/nvhost-ctrl\n/dev/nvgpu/igpu0/ctrl\n/dev/nvgpu/igpu0/power\n", Cli("--root", host.Root, "list", "--device=0").Stdout);
        var debug = Cli("--root", host.Root, "--debug=/dev/stderr", "list", "--libraries");
        Assert.Contains("missing device /dev/nvhost-missing", debug.Stderr);
        Assert.Contains("missing library /usr/lib/x86_64-linux-gnu/missing.so", debug.Stderr);
    }

    [BinaryFact]
    public void Info_prints_one_gpu_with_the_facts_only_cuda_would_give_as_null()
    {
        var r = Cli("--root", host.Root, "info");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("NVRM version:   (null)\nCUDA version:   (null)\n\nDevice Index:   0\nDevice Minor:   0\nModel:          (null)\n" +
                     "Brand:          (null)\nGPU UUID:       (null)\nBus Location:   (null)\nArchitecture:   (null)\n", r.Stdout);
        Assert.Equal("NVRM version,CUDA version\n(null),(null)\n\nDevice Index,Device Minor,Model,Brand,GPU UUID,Bus Location,Architecture\n" +
                     "0,0,(null),(null),(null),(null),(null)\n", Cli("--root", host.Root, "info", "--csv").Stdout);
    }

    [RootFact]
    public void Configure_mounts_the_csv_devices_libraries_and_dirs_and_makes_the_links()
    {
        using var c = new ConfigureContainer(host.Root);
        var r = c.Configure("--device=all", "--compute", "--utility", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        var inside = c.Inside("ls /dev /dev/nvgpu/igpu0; echo ---; /sbin/ldconfig -p; echo ---; readlink /usr/lib/x86_64-linux-gnu/libcuda.so; " +
                              "readlink /usr/lib/x86_64-linux-gnu/tegra/libcuda.so.1; echo ---; ls /usr/share/nvidia-tegra; echo ---; test -e /proc/driver/nvidia && echo procfs; true");
        Assert.True(inside.ExitCode == 0, inside.Combined);
        var parts = inside.Stdout.Split("---\n");
        foreach (var node in new[] { "nvmap\n", "nvhost-ctrl\n", "ctrl\n", "power\n" }) Assert.Contains(node, parts[0]);
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/tegra/libcuda.so.1", parts[1]);
        Assert.Equal("tegra/libcuda.so.1\nlibcuda.so.1.1\n", parts[2]);
        Assert.Equal("nvidia_icd.json\n", parts[3]);
        Assert.DoesNotContain("procfs", parts[4]);
        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/lib/x86_64-linux-gnu/tegra/libnvrm_gpu.so"));
        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/share/nvidia-tegra"));
        Assert.StartsWith("ro,nosuid,noexec", c.MountOptions("/dev/nvmap"));
        c.Tree.AssertSentinelUntouched();
    }

    // docker run --gpus on the Jetson root, with the legacy mode the original's hook needs there (its auto mode means csv).
    [EngineFact("dockerd")]
    public void Docker_run_gpus_gives_a_container_the_csv_files()
    {
        var dir = Path.Combine("/tmp", $"gt-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        var config = host.Dir["hook.toml"];
        File.WriteAllText(config, $"[nvidia-container-cli]\nroot = \"{host.Root}\"\n[nvidia-container-runtime]\nmode = \"legacy\"\n");
        using var docker = new Docker(dir, new Dictionary<string, string>(), new Dictionary<string, string>
        {
            ["PATH"] = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH"), ["NVIDIA_CTK_CONFIG_FILE_PATH"] = config,
        });
        try
        {
            var tar = BusyboxImage.BuildTar(host.Dir["image"]);
            var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{docker.Socket} import '{tar}' gantry-e2e/busybox-tegra"]);
            Assert.True(import.ExitCode == 0, import.Combined);
            var r = docker.Run(["run", "--rm", "--gpus", "all", "gantry-e2e/busybox-tegra", "sh", "-c",
                "ls /dev/nvmap /dev/nvgpu/igpu0/ctrl; ldconfig -p | grep libcuda.so.1; readlink /usr/lib/x86_64-linux-gnu/libcuda.so; ls /usr/share/nvidia-tegra"]);
            Assert.True(r.ExitCode == 0, r.Combined);
            Assert.Contains("/dev/nvmap\n", r.Stdout);
            Assert.Contains("/dev/nvgpu/igpu0/ctrl\n", r.Stdout);
            Assert.Matches(@"libcuda\.so\.1 \(libc6,x86-64\) => /usr/lib/x86_64-linux-gnu/tegra/libcuda\.so\.1", r.Stdout);
            Assert.Contains("tegra/libcuda.so.1\n", r.Stdout);
            Assert.Contains("nvidia_icd.json\n", r.Stdout);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

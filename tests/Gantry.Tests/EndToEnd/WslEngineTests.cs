using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A simulated WSL2 guest (/dev/dxg as a character device, the driver store under /usr/lib/wsl) and, beside it, a
/// simulated native host; their wsl and management specs in /var/run/cdi under kinds of their own (the Podman tests'
/// nvidia.com/gpu spec may be there at the same time), and the runtime shim configured for the WSL guest.
/// </summary>
public sealed class WslEngineHost : IDisposable
{
    internal ShimHost Shim { get; } = new("--wsl");
    internal TempDir Dir { get; } = new();
    internal Podman Podman { get; }
    public string WslSpec { get; } = $"/var/run/cdi/gantry-e2e-wsl-{Environment.ProcessId}.yaml";
    public string ManagementSpec { get; } = $"/var/run/cdi/gantry-e2e-mgmt-{Environment.ProcessId}.yaml";
    public const string Image = "localhost/gantry-e2e-wsl-busybox";
    public const string WslVendor = "wsl.gantry.test", ManagementVendor = "management.gantry.test";

    public WslEngineHost()
    {
        Podman = new Podman(Dir["podman"]);
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot) return;
        Directory.CreateDirectory("/var/run/cdi");
        var hook = $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook";
        var wsl = Sim.Generate(Shim.HostRoot, "--mode=wsl", $"--vendor={WslVendor}", $"--output={WslSpec}", hook);
        Assert.True(wsl.ExitCode == 0, wsl.Combined);
        var native = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", Dir["native"], "--gpus", "2", "--mig", "1:1", "--imex-channels", "1", "--device-nodes", "char");
        Assert.True(native.ExitCode == 0, native.Combined);
        var management = Sim.Generate(Dir["native"], "--mode=management", $"--vendor={ManagementVendor}", $"--output={ManagementSpec}", hook);
        Assert.True(management.ExitCode == 0, management.Combined);
        if (Podman.Binary is null || BusyboxImage.Missing() is not null) return;
        var import = Podman.Import(BusyboxImage.BuildTar(Dir.Path), Image);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    public void Dispose()
    {
        foreach (var spec in new[] { WslSpec, ManagementSpec }) if (File.Exists(spec)) File.Delete(spec);
        Dir.Dispose();
        Shim.Dispose();
    }
}

public sealed class WslEngineTests(WslEngineHost host) : IClassFixture<WslEngineHost>
{
    const string Look = "ls -l /dev/dxg; ls /dev | grep -c '^nvidia' ; nvidia-smi -L; ldconfig -p | grep libcuda.so.1; ls /usr/lib/wsl/lib";

    static void AssertWslGpu(string seen)
    {
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(seen, @"c[rw-]{9} .* 10, +126 .*/dev/dxg"), seen);
        Assert.True(seen.Contains("GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-"), seen);
        // The store's libcuda.so.1.1 has the SONAME libcuda.so.1: the container's ld cache resolves it in the store.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(seen, @"libcuda\.so\.1 \(libc6,x86-64\) => /usr/lib/wsl/drivers/nvmii\.inf_amd64_0123456789abcdef/libcuda\.so\.1"), seen);
        Assert.True(seen.Contains("libdxcore.so"), seen);
    }

    [EngineFact("podman")]
    public void Podman_gives_a_container_the_wsl_gpu_from_the_wsl_spec()
    {
        var r = host.Podman.Run(WslEngineHost.Image, [$"{WslEngineHost.WslVendor}/gpu=all"], Look);
        Assert.True(r.ExitCode == 0, r.Combined);
        AssertWslGpu(r.Stdout);
    }

    [EngineFact("podman")]
    public void Podman_gives_a_management_container_every_node_and_the_driver()
    {
        var r = host.Podman.Run(WslEngineHost.Image, [$"{WslEngineHost.ManagementVendor}/gpu=all"],
            "ls /dev /dev/nvidia-caps /dev/nvidia-caps-imex-channels; nvidia-smi -L; ldconfig -p | grep libcuda.so.1");
        Assert.True(r.ExitCode == 0, r.Combined);
        foreach (var node in new[] { "nvidia0\n", "nvidia1\n", "nvidiactl\n", "nvidia-uvm\n", "nvidia-uvm-tools\n", "nvidia-modeset\n", "channel0\n" })
            Assert.Contains(node, r.Stdout);
        Assert.Matches(@"nvidia-cap\d+", r.Stdout);
        Assert.Contains("GPU 0:", r.Stdout);
        Assert.Contains("GPU 1:", r.Stdout);
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", r.Stdout);
    }

    [EngineFact("runc")]
    public void The_runtime_in_auto_mode_gives_a_container_the_wsl_gpu()
    {
        var bundle = host.Dir["bundle"];
        OciBundle.Create(bundle, "{ " + Look + "; } > /result 2>&1", ["NVIDIA_VISIBLE_DEVICES=all"]);
        var seen = host.Shim.RunContainer(host.Shim.Shim, host.Shim.Dir["config.toml"], bundle, $"wsl-{Environment.ProcessId}");
        AssertWslGpu(seen);
    }

    // The legacy route: docker run --gpus (the hook) and the runtime in legacy mode both run nvidia-container-cli
    // configure, which mounts the lxss libraries into the image's library directory and the store's files in place.
    [EngineFact("dockerd")]
    public void Docker_run_gpus_and_the_legacy_runtime_give_a_container_the_wsl_gpu()
    {
        var dir = Path.Combine("/tmp", $"gl-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        var hookConfig = host.Shim.Dir["wsl-hook.toml"];
        var legacyConfig = host.Shim.Dir["wsl-legacy.toml"];
        var common = $"[nvidia-container-cli]\nroot = \"{host.Shim.HostRoot}\"\n";
        File.WriteAllText(hookConfig, common);
        File.WriteAllText(legacyConfig, common + $"[nvidia-container-runtime]\nmode = \"legacy\"\ndebug = \"{host.Shim.LogFile}\"\n");
        var wrapper = RuntimeWrapper.Write(host.Shim.Dir["nvidia-legacy"], host.Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = legacyConfig });
        using var docker = new Docker(dir, new Dictionary<string, string> { ["nvidia"] = wrapper }, new Dictionary<string, string>
        {
            ["PATH"] = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH"), ["NVIDIA_CTK_CONFIG_FILE_PATH"] = hookConfig,
        });
        try
        {
            var tar = BusyboxImage.BuildTar(host.Dir["docker-image-legacy"]);
            var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{docker.Socket} import '{tar}' gantry-e2e/busybox-wsl-legacy"]);
            Assert.True(import.ExitCode == 0, import.Combined);
            const string look = "ls -l /dev/dxg; ls /dev | grep -c '^nvidia' ; nvidia-smi -L; ldconfig -p | grep -E 'libcuda.so.1|libdxcore'; " +
                                "ls /usr/lib/wsl/drivers/*/";
            foreach (var route in new[] { new[] { "--gpus", "all" }, ["--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=all"] })
            {
                var r = docker.Run(["run", "--rm", .. route, "gantry-e2e/busybox-wsl-legacy", "sh", "-c", look]);
                Assert.True(r.ExitCode == 0, $"{string.Join(' ', route)}: {r.Combined}");
                Assert.Matches(@"c[rw-]{9} .* 10, +126 .*/dev/dxg", r.Stdout);
                Assert.Contains("\n0\n", r.Stdout); // no /dev/nvidia* node
                Assert.Contains("GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-", r.Stdout);
                Assert.Matches(@"libcuda\.so\.1 \(libc6,x86-64\) => /usr/lib(64|/x86_64-linux-gnu)/libcuda\.so\.1", r.Stdout);
                Assert.Matches(@"libdxcore\.so \(libc6,x86-64\) => /usr/lib(64|/x86_64-linux-gnu)/libdxcore\.so", r.Stdout);
                Assert.Contains("libcuda.so.1.1\n", r.Stdout);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [EngineFact("docker")]
    public void Docker_with_the_nvidia_runtime_gives_a_container_the_wsl_gpu()
    {
        var dir = Path.Combine("/tmp", $"gw-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        var wrapper = RuntimeWrapper.Write(host.Shim.Dir["nvidia-container-runtime"], host.Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = host.Shim.Dir["config.toml"] });
        using var docker = new Docker(dir, new Dictionary<string, string> { ["nvidia"] = wrapper },
            new Dictionary<string, string> { ["PATH"] = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH") });
        try
        {
            var tar = BusyboxImage.BuildTar(host.Dir["docker-image"]);
            var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{docker.Socket} import '{tar}' gantry-e2e/busybox-wsl"]);
            Assert.True(import.ExitCode == 0, import.Combined);
            var r = docker.Run(["run", "--rm", "--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=all", "gantry-e2e/busybox-wsl", "sh", "-c", Look]);
            Assert.True(r.ExitCode == 0, r.Combined);
            AssertWslGpu(r.Stdout);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

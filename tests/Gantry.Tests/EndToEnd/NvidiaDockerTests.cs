using System.Diagnostics;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A simulated 2-GPU host, nvidia-docker-plugin serving it, and a private dockerd that finds the plugin in its
/// own /run/docker/plugins (a private mount namespace; the machine's plugin directory is not touched). Images:
/// busybox as a CUDA 9.0 image with the 1.0 labels, one asking for CUDA 99.0, and plain busybox. The same dockerd
/// has the other Docker routes over the same host, for the load test: the runtime "nvidia" (jit-cdi, or cdi mode for
/// NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=N with a spec in a private directory) and --gpus (the hook on its PATH).
/// </summary>
public sealed class NvidiaDockerEngineHost : IDisposable
{
    public const string Cuda = "gantry-e2e/cuda:9.0", TooNew = "gantry-e2e/cuda:99.0", Plain = "gantry-e2e/busybox";
    // Short: dockerd's socket paths must fit in sun_path.
    readonly string _dir = Path.Combine("/tmp", $"gn-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
    internal Docker? Docker { get; }
    internal PluginProcess? Plugin { get; private set; }
    internal string HostRoot => Path.Combine(_dir, "host");
    internal string VolumesDir => Path.Combine(_dir, "volumes");
    internal string Dir => _dir;

    public NvidiaDockerEngineHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null
            || !File.Exists(PluginProcess.Binary)) return;
        Directory.CreateDirectory(_dir);
        var sim = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", HostRoot, "--gpus", "2");
        Assert.True(sim.ExitCode == 0, sim.Combined);
        var plugins = Directory.CreateDirectory(Path.Combine(_dir, "plugins")).FullName;
        Plugin = new PluginProcess(HostRoot, Path.Combine(_dir, "volumes"), plugins);
        var config = Path.Combine(_dir, "config.toml");
        File.WriteAllText(config, $"[nvidia-container-cli]\nroot = \"{HostRoot}\"\n[nvidia-container-runtime.modes.cdi]\n" +
            $"spec-dirs = [\"{_dir}/cdi\"]\n[nvidia-ctk]\npath = \"{TestEnvironment.NvidiaCtk}\"\n");
        var cdi = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "generate", "--driver-root=" + HostRoot,
            "--nvidia-cdi-hook-path=" + Path.Combine(TestEnvironment.BinDir, "nvidia-cdi-hook"), $"--output={_dir}/cdi/nvidia.yaml");
        Assert.True(cdi.ExitCode == 0, cdi.Combined);
        var runtime = RuntimeWrapper.Write(Path.Combine(_dir, "nvidia-container-runtime"), Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime"),
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = config });
        Docker = new Docker(Path.Combine(_dir, "d"), new Dictionary<string, string> { ["nvidia"] = runtime },
            new Dictionary<string, string> { ["PATH"] = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH"), ["NVIDIA_CTK_CONFIG_FILE_PATH"] = config },
            pluginDir: plugins);
        var tar = BusyboxImage.BuildTar(Path.Combine(_dir, "image"));
        Import(tar, Plain);
        Import(tar, Cuda, "LABEL com.nvidia.volumes.needed=nvidia_driver", "LABEL com.nvidia.cuda.version=9.0",
            "ENV PATH=/usr/local/nvidia/bin:/bin:/sbin", "ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64");
        Import(tar, TooNew, "LABEL com.nvidia.volumes.needed=nvidia_driver", "LABEL com.nvidia.cuda.version=99.0");
    }

    /// <summary>Stops the plugin (SIGTERM) and starts a new one on the same socket and volumes.</summary>
    internal void RestartPlugin()
    {
        Assert.Equal(0, Plugin!.Stop());
        Plugin.Dispose();
        Plugin = new PluginProcess(HostRoot, Path.Combine(_dir, "volumes"), Path.Combine(_dir, "plugins"));
    }

    /// <summary>SIGKILLs the plugin, as the OOM killer would: no clean-up, its socket stays behind. <see cref="StartPlugin"/> follows.</summary>
    internal void KillPlugin()
    {
        Plugin!.Kill();
        Plugin.Dispose();
        Plugin = null;
    }

    /// <summary>Starts a plugin on the same socket directory and volumes (after <see cref="KillPlugin"/>).</summary>
    internal void StartPlugin() => Plugin = new PluginProcess(HostRoot, VolumesDir, Path.Combine(_dir, "plugins"));

    void Import(string tar, string name, params string[] changes)
    {
        var r = Docker!.Run(["import", .. changes.SelectMany(c => new[] { "--change", c }), tar, name]);
        Assert.True(r.ExitCode == 0, r.Combined);
    }

    /// <summary>out/nvidia-docker against the private dockerd (DOCKER_HOST), the GPUs of the simulated host.</summary>
    internal ProcessResult NvidiaDocker(Dictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(TestEnvironment.BinDir, "nvidia-docker")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in new[] { "NV_GPU", "NV_HOST", "NV_DOCKER", "NV_DOCKER_MODE", "NV_DOCKER_CONFIG" }) psi.Environment.Remove(v);
        psi.Environment["DOCKER_HOST"] = "unix://" + Docker!.Socket;
        psi.Environment["NV_DRIVER_ROOT"] = HostRoot;
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(); throw new TimeoutException("nvidia-docker did not finish in 2 minutes"); }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        Docker?.Dispose();
        Plugin?.Stop();
        Plugin?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed class NvidiaDockerTests(NvidiaDockerEngineHost host) : IClassFixture<NvidiaDockerEngineHost>
{
    const string Inside = "ls /dev | grep nvidia | sort | tr '\\n' ' '; echo; readlink /usr/local/nvidia/lib64/libcuda.so.1; nvidia-smi -L";

    [EngineFact("dockerd")]
    public void A_labelled_image_sees_the_GPUs_and_the_driver_volume()
    {
        var r = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "sh", "-c", Inside);
        Assert.True(r.ExitCode == 0, r.Combined);
        var lines = r.Stdout.Split('\n');
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl", lines[0].Trim());
        Assert.Equal("libcuda.so.550.54.15", lines[1]);
        Assert.StartsWith("GPU 0: NVIDIA A100-SXM4-40GB", lines[2]);
        Assert.StartsWith("GPU 1: NVIDIA A100-SXM4-40GB", lines[3]);
    }

    [EngineFact("dockerd")]
    public void NV_GPU_gives_only_the_chosen_GPU()
    {
        var r = host.NvidiaDocker(new() { ["NV_GPU"] = "1" }, "run", "--rm", NvidiaDockerEngineHost.Cuda, "sh", "-c", Inside);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl", r.Stdout.Split('\n')[0].Trim());
        Assert.Contains("GPU 1: NVIDIA", r.Stdout);
        Assert.DoesNotContain("GPU 0:", r.Stdout);
    }

    [EngineFact("dockerd")]
    public void The_volume_is_listed_and_can_be_removed_and_created_again()
    {
        Assert.Equal(0, host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "true").ExitCode);
        var ls = host.Docker!.Run("volume", "ls", "--format", "{{.Driver}} {{.Name}}");
        Assert.Contains("nvidia-docker nvidia_driver_550.54.15", ls.Stdout);
        var rm = host.Docker.Run("volume", "rm", "nvidia_driver_550.54.15");
        Assert.True(rm.ExitCode == 0, rm.Combined);
        Assert.DoesNotContain("nvidia_driver_550.54.15", host.Docker.Run("volume", "ls").Stdout);
        var again = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "readlink", "/usr/local/nvidia/lib64/libcuda.so.1");
        Assert.True(again.ExitCode == 0, again.Combined);
        Assert.Equal("libcuda.so.550.54.15", again.Stdout.Trim());
    }

    [EngineFact("dockerd")]
    public void A_plugin_restart_keeps_the_volume_usable_by_running_and_new_containers()
    {
        var name = "gantry-nvd-" + Guid.NewGuid().ToString("N")[..8];
        var started = host.NvidiaDocker(null, "run", "-d", "--name", name, NvidiaDockerEngineHost.Cuda, "busybox", "sleep", "60");
        Assert.True(started.ExitCode == 0, started.Combined);
        try
        {
            host.RestartPlugin();
            var inside = host.Docker!.Run("exec", name, "readlink", "/usr/local/nvidia/lib64/libcuda.so.1");
            Assert.True(inside.ExitCode == 0, inside.Combined);
            Assert.Equal("libcuda.so.550.54.15", inside.Stdout.Trim());
            var fresh = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Cuda, "readlink", "/usr/local/nvidia/lib64/libcuda.so.1");
            Assert.True(fresh.ExitCode == 0, fresh.Combined);
            Assert.Equal("libcuda.so.550.54.15", fresh.Stdout.Trim());
        }
        finally { host.Docker!.Run("rm", "-f", name); }
    }

    [EngineFact("dockerd")]
    public void An_image_needing_a_newer_CUDA_is_refused_with_the_original_message()
    {
        var r = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.TooNew, "true");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Error: unsupported CUDA version: driver 12.4 < image 99.0", r.Stderr);
    }

    [EngineFact("dockerd")]
    public void An_unlabelled_image_runs_as_with_plain_docker()
    {
        var r = host.NvidiaDocker(null, "run", "--rm", NvidiaDockerEngineHost.Plain, "sh", "-c", "ls /dev | grep -c nvidia; ls /usr/local/nvidia 2>&1 | head -1");
        var plain = host.Docker!.Run("run", "--rm", NvidiaDockerEngineHost.Plain, "sh", "-c", "ls /dev | grep -c nvidia; ls /usr/local/nvidia 2>&1 | head -1");
        Assert.Equal(plain.ExitCode, r.ExitCode);
        Assert.Equal(plain.Stdout, r.Stdout);
        Assert.StartsWith("0\n", r.Stdout);
    }
}

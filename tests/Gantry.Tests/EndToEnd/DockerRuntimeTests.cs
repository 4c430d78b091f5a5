using Gantry.Engines;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A private dockerd whose daemon.json registers "nvidia" as a wrapper script: containerd's shim starts the
/// runtime without dockerd's environment, so the wrapper sets NVIDIA_CTK_CONFIG_FILE_PATH to the test's config.
/// </summary>
public sealed class DockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox";
    internal ShimHost Shim { get; } = new();
    internal Docker? Docker { get; }
    // A short directory: dockerd's socket paths must fit in sun_path.
    readonly string _dir = Path.Combine("/tmp", $"gd-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public DockerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        var wrapper = RuntimeWrapper.Write(Shim.Dir["nvidia-container-runtime"], Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Shim.Dir["config.toml"] });
        Docker = new Docker(_dir, new Dictionary<string, string> { ["nvidia"] = wrapper });
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Docker.Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    internal ProcessResult Run(params string[] args) =>
        Docker!.Run(["run", "--rm", "--runtime=nvidia", .. args]);

    public void Dispose()
    {
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Shim.Dispose();
    }
}

public sealed class DockerRuntimeTests(DockerHost host) : IClassFixture<DockerHost>
{
    const string ListGpus = "ls /dev | grep nvidia | sort | tr '\\n' ' '";

    [EngineFact("dockerd")]
    public void Docker_run_with_runtime_nvidia_gives_the_requested_gpus()
    {
        var one = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=1", DockerHost.Image, "sh", "-c", ListGpus);
        Assert.True(one.ExitCode == 0, one.Combined);
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl", one.Stdout.Trim());
        var all = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=all", DockerHost.Image, "sh", "-c", ListGpus);
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl", all.Stdout.Trim());
        var none = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=none", DockerHost.Image, "sh", "-c", ListGpus + "; env | grep NVIDIA_VISIBLE");
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidiactl NVIDIA_VISIBLE_DEVICES=void", none.Stdout.Trim());
        var unset = host.Run(DockerHost.Image, "sh", "-c", ListGpus + "; echo end");
        Assert.Equal("end", unset.Stdout.Trim());
    }

    [EngineFact("dockerd")]
    public void An_unmet_cuda_requirement_fails_docker_run_with_the_requirement()
    {
        var r = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=0", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", DockerHost.Image, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("requirement error: unsatisfied condition: cuda>=99.0, please update your driver to a newer version", r.Stderr);
        var ok = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=0", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=12.0", DockerHost.Image, "true");
        Assert.True(ok.ExitCode == 0, ok.Combined);
    }

    // containerd alone: the same daemon dockerd uses, driven by ctr with the shim as its runc binary.
    [EngineFact("ctr")]
    public void Ctr_run_with_the_shim_as_runc_binary_gives_the_requested_gpu()
    {
        var rootfs = host.Shim.Dir["ctr-rootfs"];
        if (!Directory.Exists(rootfs)) { BusyboxImage.BuildTar(host.Shim.Dir["ctr"]); Directory.Move(host.Shim.Dir["ctr/rootfs"], rootfs); }
        var r = ProcessRunner.Run(ProcessRunner.Which("ctr")!, ["--address", host.Docker!.ContainerdSocket, "run", "--rm",
            "--runc-binary", host.Shim.Dir["nvidia-container-runtime"], "--env", "NVIDIA_VISIBLE_DEVICES=0", "--env", "PATH=/bin:/sbin", "--rootfs", rootfs, "gantry-ctr", "/bin/sh", "-c", "ls /dev | grep nvidia | sort | tr '\\n' ' '"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidiactl", r.Stdout.Trim());
    }
}

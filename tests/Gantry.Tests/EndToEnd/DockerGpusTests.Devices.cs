using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// The whole legacy path with gantry's own nvidia-container-cli configure on the simulated 2-GPU host: what the
// container sees (device nodes, driver files, nvidia-smi) and what its device cgroup lets it open.
public sealed partial class DockerGpusTests
{
    const string ListGpus = "ls /dev | grep nvidia | sort | tr '\\n' ' '";

    ProcessResult InContainer(string[] runArgs, string script)
    {
        Host.UseCli(null);
        var r = Host.Run([.. runArgs, GpuDockerHost.Image, "sh", "-c", script]);
        Assert.True(r.ExitCode == 0, r.Combined);
        return r;
    }

    [EngineTheory("dockerd")]
    [InlineData("all", "nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl")]
    [InlineData("2", "nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl")]
    [InlineData("\"device=1\"", "nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl")]
    [InlineData("all,\"capabilities=utility\"", "nvidia0 nvidia1 nvidiactl")]
    public void Docker_run_gpus_gives_the_requested_device_nodes(string gpus, string nodes) =>
        Assert.Equal(nodes, InContainer(["--gpus", gpus], ListGpus).Stdout.Trim());

    [EngineFact("dockerd")]
    public void The_driver_files_follow_the_capabilities()
    {
        const string Script = "nvidia-smi -L; ls /usr/lib64 | grep -E '^lib(cuda|nvidia-ml)[.]so' | tr '\\n' ' '";
        var both = InContainer(["--gpus", "\"device=1\""], Script).Stdout;
        Assert.Contains("GPU 1: NVIDIA A100-SXM4-40GB", both);
        Assert.DoesNotContain("GPU 0:", both);
        Assert.Contains("libcuda.so.550.54.15", both);
        Assert.Contains("libnvidia-ml.so.550.54.15", both);
        var utility = InContainer(["--gpus", "all,\"capabilities=utility\""], Script).Stdout;
        Assert.Contains("GPU 0: NVIDIA A100-SXM4-40GB", utility);
        Assert.Contains("libnvidia-ml.so.550.54.15", utility);
        Assert.DoesNotContain("libcuda", utility);
    }

    // The device cgroup: GPU 1's node may be opened (ENXIO: no kernel driver behind major 195 here), GPU 0's may not.
    [EngineFact("dockerd")]
    public void The_device_cgroup_lets_the_container_open_its_gpu_only()
    {
        var r = InContainer(["--gpus", "\"device=1\""],
            "mknod /tmp/gpu0 c 195 0; mknod /tmp/gpu1 c 195 1; cat /tmp/gpu0; cat /tmp/gpu1; true");
        Assert.Contains("can't open '/tmp/gpu0': Operation not permitted", r.Stderr);
        Assert.Contains("can't open '/tmp/gpu1': No such device or address", r.Stderr);
    }

    [EngineFact("dockerd")]
    public void An_unmet_requirement_fails_docker_run_with_the_cli_message()
    {
        Host.UseCli(null);
        var r = Host.Run("--gpus", "all", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", GpuDockerHost.Image, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("requirement error: unsatisfied condition: cuda>=99.0, please update your driver to a newer version", r.Stderr);
        Assert.Equal(0, Host.Run("--gpus", "all", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", "-e", "NVIDIA_DISABLE_REQUIRE=1", GpuDockerHost.Image, "true").ExitCode);
    }

    [EngineFact("dockerd")]
    public void The_runtime_in_legacy_mode_gives_the_requested_gpu() =>
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl",
            InContainer(["--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=1"], ListGpus).Stdout.Trim());

    // Legacy mode's own modifiers before the hook: with graphics asked for, GPU 1's DRM nodes, its by-path links (the
    // create-symlinks hook) and the graphics configs; with NVIDIA_GDRCOPY=enabled, /dev/gdrdrv. The CLI adds nvidia1.
    [EngineFact("dockerd")]
    public void The_runtime_in_legacy_mode_adds_graphics_and_gated_devices()
    {
        const string Script = "ls /dev/dri | tr '\\n' ' '; echo; readlink /dev/dri/by-path/pci-0000:0f:00.0-render; " +
                              "ls /etc/vulkan/icd.d /usr/share/glvnd/egl_vendor.d; ls /dev/gdrdrv; " + ListGpus;
        var r = InContainer(["--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=1", "-e", "NVIDIA_DRIVER_CAPABILITIES=graphics,utility",
            "-e", "NVIDIA_GDRCOPY=enabled"], Script).Stdout;
        Assert.Equal("by-path card2 renderD129", r.Split('\n')[0].Trim());
        Assert.Contains("../renderD129", r);
        Assert.Contains("nvidia_icd.json", r);
        Assert.Contains("10_nvidia.json", r);
        Assert.Contains("/dev/gdrdrv", r);
        Assert.EndsWith("nvidia1 nvidiactl", r.Trim());
        // Without graphics: none of it.
        var plain = InContainer(["--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=1"], "ls /dev/dri /dev/gdrdrv 2>&1; true").Stdout;
        Assert.Contains("No such file or directory", plain);
    }

    // ctr --gpus puts `containerd oci-hook -- <nvidia-container-cli on ctr's PATH> --load-kmods configure …` in the
    // spec without --root; a wrapper first on ctr's PATH adds the simulated host's root.
    [EngineFact("ctr")]
    public void Ctr_run_gpus_execs_our_cli_found_on_its_path()
    {
        var bin = Host.Sim.Dir["ctr-bin"];
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "nvidia-container-cli"),
            $"#!/bin/sh\nexec '{Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli")}' --root='{Host.Sim.HostRoot}' \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "nvidia-container-cli"), (UnixFileMode)0b111_101_101);
        var rootfs = Host.Sim.Dir["ctr-rootfs"];
        if (!Directory.Exists(rootfs)) { BusyboxImage.BuildTar(Host.Sim.Dir["ctr"]); Directory.Move(Host.Sim.Dir["ctr/rootfs"], rootfs); }
        var id = "gantry-gpus-" + Guid.NewGuid().ToString("N")[..8];
        var r = ProcessRunner.Run("sh", ["-c", $"PATH='{bin}':\"$PATH\" exec ctr --address '{Host.Docker!.ContainerdSocket}' run --rm --gpus 0 " +
            $"--env PATH=/bin:/sbin:/usr/bin --rootfs '{rootfs}' {id} /bin/sh -c \"{ListGpus}\""]);
        Assert.True(r.ExitCode == 0, r.Combined);
        // ctr asks for every capability, display included, hence nvidia-modeset.
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidiactl", r.Stdout.Trim());
    }
}

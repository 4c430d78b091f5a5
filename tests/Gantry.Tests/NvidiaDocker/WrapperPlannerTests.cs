using Gantry.Common;
using Gantry.NvidiaDocker;
using Gantry.NvidiaDockerWrapper;

namespace Gantry.Tests.NvidiaDocker;

public sealed class WrapperPlannerTests
{
    sealed class FakeDocker(ImageLabels? labels, bool volumeExists = false) : IDockerQueries
    {
        public List<string> Asked { get; } = [];
        public bool Pulled { get; set; }
        public ImageLabels? Labels(string image) { Asked.Add(image); return labels ?? (Pulled ? new ImageLabels("", "") : null); }
        public Func<string, bool> VolumeLookup(string prefix) => _ => volumeExists;
    }

    const string Controls = "--device=/dev/nvidiactl --device=/dev/nvidia-uvm --device=/dev/nvidia-uvm-tools";

    static string Plan(string line, ImageLabels? labels, string[]? gpus = null, bool volumeExists = false)
    {
        var docker = new FakeDocker(labels, volumeExists);
        var host = new FakeGpuHost();
        var plan = WrapperPlanner.PlanVolumeMode(line.Split(' '), docker, _ => docker.Pulled = true,
            () => new LocalGpuArguments(host, gpus ?? [], docker.VolumeLookup("nvidia_driver_")));
        return string.Join(' ', plan.DockerArgs);
    }

    [Theory]
    [InlineData("run --rm cuda nvidia-smi", null, $"run --rm {Controls} --device=/dev/nvidia0 --device=/dev/nvidia1 --volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda nvidia-smi")]
    [InlineData("create -e A=1 cuda", "1", $"create -e A=1 {Controls} --device=/dev/nvidia1 --volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda")]
    [InlineData("container run -it cuda", "GPU-6666,0", $"container run -it {Controls} --device=/dev/nvidia0 --device=/dev/nvidia1 --volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda")]
    public void A_labelled_image_gets_its_GPUs_and_the_driver_volume_right_before_the_image(string line, string? nvGpu, string expected) =>
        Assert.Equal(expected, Plan(line, new ImageLabels("nvidia_driver", "9.0"), GpuSelection.ParseList(nvGpu).ToArray()));

    [Fact]
    public void An_existing_volume_is_used_without_the_volume_driver() =>
        Assert.Equal($"run {Controls} --device=/dev/nvidia0 --device=/dev/nvidia1 --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda",
            Plan("run cuda", new ImageLabels("nvidia_driver", ""), volumeExists: true));

    [Fact]
    public void An_unlabelled_image_and_other_commands_run_untouched()
    {
        Assert.Equal("run --rm busybox true", Plan("run --rm busybox true", new ImageLabels("", "")));
        Assert.Equal("ps -a", Plan("ps -a", null));
        Assert.Equal("run", Plan("run", null));
    }

    [Fact]
    public void A_label_naming_only_unknown_volumes_still_gets_the_devices() =>
        Assert.Equal($"run {Controls} --device=/dev/nvidia0 --device=/dev/nvidia1 cuda", Plan("run cuda", new ImageLabels("other_volume", "")));

    [Fact]
    public void A_missing_image_is_pulled_then_inspected_again()
    {
        var docker = new FakeDocker(null);
        var pulled = new List<string>();
        var plan = WrapperPlanner.PlanVolumeMode(["run", "busybox"], docker, i => { pulled.Add(i); docker.Pulled = true; }, () => throw new InvalidOperationException());
        Assert.Equal(["busybox"], pulled);
        Assert.Equal(["busybox", "busybox"], docker.Asked);
        Assert.Equal(["run", "busybox"], plan.DockerArgs);
    }

    [Theory]
    [InlineData("99.0", "unsupported CUDA version: driver 12.4 < image 99.0")]
    [InlineData("12.5", "unsupported CUDA version: driver 12.4 < image 12.5")]
    public void An_image_needing_a_newer_CUDA_is_refused(string label, string message)
    {
        var e = Assert.Throws<GantryException>(() => Plan("run cuda", new ImageLabels("nvidia_driver", label)));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("12.4")]
    [InlineData("8.0")]
    [InlineData("12.4.1")]
    public void An_image_of_an_older_or_equal_CUDA_runs(string label) =>
        Assert.StartsWith("run --device", Plan("run cuda", new ImageLabels("nvidia_driver", label)));

    [Theory]
    [InlineData("2")]
    [InlineData("GPU-9")]
    [InlineData("-1")]
    [InlineData("x")]
    public void An_unknown_GPU_is_an_invalid_device(string id)
    {
        var e = Assert.Throws<GantryException>(() => Plan("run cuda", new ImageLabels("nvidia_driver", ""), [id]));
        Assert.Equal($"invalid device: {id}", e.Message);
    }

    [Fact]
    public void Version_prints_the_banner_and_runs_docker_version()
    {
        var plan = WrapperPlanner.PlanVolumeMode(["version"], new FakeDocker(null), _ => { }, () => throw new InvalidOperationException());
        Assert.StartsWith("NVIDIA Docker: 1.0.1", plan.Banner);
        Assert.EndsWith("\n\n", plan.Banner);
        Assert.Equal(["version"], plan.DockerArgs);
    }

    [Theory]
    [InlineData("run --rm cuda", null, "run --runtime=nvidia --rm cuda")]
    [InlineData("run cuda", "0 1", "run --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0,1 cuda")]
    [InlineData("-D container create cuda", "GPU-1,2", "-D container create --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=GPU-1,2 cuda")]
    [InlineData("ps -a", "0", "ps -a")]
    [InlineData("exec -- x run", "0", "exec -- x run")]
    public void Mode_2_adds_the_nvidia_runtime_after_run_or_create(string line, string? nvGpu, string expected) =>
        Assert.Equal(expected, string.Join(' ', WrapperPlanner.PlanRuntimeMode(line.Split(' '), nvGpu).DockerArgs));

    [Fact]
    public void Mode_2_version_prints_its_banner() =>
        Assert.StartsWith("NVIDIA Docker: 2.", WrapperPlanner.PlanRuntimeMode(["version"], null).Banner);
}

public sealed class WrapperSettingsTests
{
    [Fact]
    public void The_environment_sets_the_docker_command_GPUs_mode_and_roots()
    {
        var env = new Dictionary<string, string>
        {
            ["NV_DOCKER"] = " sudo  docker ", ["NV_GPU"] = "0, 1 GPU-2", ["NV_DOCKER_MODE"] = "2", ["NV_DRIVER_ROOT"] = "/run/nvidia/driver",
            ["NV_DOCKER_CONFIG"] = "/nonexistent/but/explicit",
        };
        var e = Assert.Throws<GantryException>(() => WrapperSettings.Load(n => env.GetValueOrDefault(n)));
        Assert.Contains("/nonexistent/but/explicit", e.Message);
        env.Remove("NV_DOCKER_CONFIG");
        var s = WrapperSettings.Load(n => env.GetValueOrDefault(n));
        Assert.Equal(["sudo", "docker"], s.DockerCommand);
        Assert.Equal(["0", "1", "GPU-2"], s.Gpus);
        Assert.Equal(WrapperMode.Runtime, s.Mode);
        Assert.Equal("/run/nvidia/driver", s.DriverRoot);
    }

    [Fact]
    public void The_config_file_sets_what_the_environment_does_not()
    {
        using var dir = new Support.TempDir();
        File.WriteAllText(dir["c.conf"], "# nvidia-docker\nmode = runtime\ndriver-root = \"/drv\"\ndev-root = /devs\n");
        var s = WrapperSettings.Load(n => n == "NV_DOCKER_CONFIG" ? dir["c.conf"] : null);
        Assert.Equal(WrapperMode.Runtime, s.Mode);
        Assert.Equal("/drv", s.DriverRoot);
        Assert.Equal("/devs", s.DevRoot);
        Assert.Equal("/other", WrapperSettings.Load(n => n switch { "NV_DOCKER_CONFIG" => dir["c.conf"], "NV_DEV_ROOT" => "/other", _ => null }).DevRoot);
        // A misspelt key is an error, not a setting silently lost.
        File.WriteAllText(dir["typo.conf"], "drvier-root = /drv\n");
        var typo = Assert.Throws<GantryException>(() => WrapperSettings.Load(n => n == "NV_DOCKER_CONFIG" ? dir["typo.conf"] : null));
        Assert.EndsWith("typo.conf:1: unknown key 'drvier-root' (known: mode, driver-root, dev-root)", typo.Message);
        Assert.Equal(["docker"], s.DockerCommand);
        File.WriteAllText(dir["bad.conf"], "mode runtime\n");
        Assert.Throws<GantryException>(() => WrapperSettings.Load(n => n == "NV_DOCKER_CONFIG" ? dir["bad.conf"] : null));
        Assert.Throws<GantryException>(() => WrapperSettings.Load(n => n == "NV_DOCKER_MODE" ? "3" : null));
    }
}

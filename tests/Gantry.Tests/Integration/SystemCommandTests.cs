using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

/// <summary>Needs the published binary and root (mknod).</summary>
internal sealed class RootBinaryFactAttribute : FactAttribute
{
    public RootBinaryFactAttribute()
    {
        if (TestEnvironment.MissingBinary() is { } why) Skip = why;
        else if (!TestEnvironment.IsRoot) Skip = "needs root (mknod); run the suite as root, as CI does";
    }
}

// nvidia-ctk system create-device-nodes / create-dev-char-symlinks against a simulated host's /proc/devices.
public sealed class SystemCommandTests
{
    static ProcessResult Ctk(params string[] args) => TestEnvironment.Run(TestEnvironment.NvidiaCtk, ["system", .. args]);

    [BinaryFact]
    public void Dry_run_prints_the_mknod_commands_and_creates_nothing()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        using var dev = new TempDir();
        var r = Ctk("create-device-nodes", $"--driver-root={d["host"]}", $"--dev-root={dev.Path}", "--control-devices", "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"Running: mknod --mode=0666 {dev.Path}/dev/nvidiactl c 195 255", r.Stderr);
        Assert.Contains($"Running: mknod --mode=0666 {dev.Path}/dev/nvidia-modeset c 195 254", r.Stderr);
        Assert.Contains($"Running: mknod --mode=0666 {dev.Path}/dev/nvidia-uvm c 510 0", r.Stderr);
        Assert.Contains($"Running: mknod --mode=0666 {dev.Path}/dev/nvidia-uvm-tools c 510 1", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dev.Path));
    }

    [BinaryFact]
    public void Without_control_devices_nothing_is_created_and_modprobe_runs_in_the_driver_root()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        using var dev = new TempDir();
        var r = Ctk("create-device-nodes", $"--root={d["host"]}", $"--dev-root={dev.Path}", "--load-kernel-modules", "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"Running: chroot {d["host"]} /sbin/modprobe nvidia-uvm", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dev.Path));
        var real = Ctk("create-device-nodes", $"--root={d["host"]}", "--load-kernel-modules");
        Assert.Equal(1, real.ExitCode);
        Assert.Contains("failed to load NVIDIA kernel modules: cannot load kernel module nvidia:", real.Stderr);
        Assert.Contains("/sbin/modprobe does not exist", real.Stderr);
    }

    [RootBinaryFact]
    public void Control_device_nodes_are_character_devices_with_the_majors_of_proc_devices()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        using var dev = new TempDir();
        var r = Ctk("create-device-nodes", $"--driver-root={d["host"]}", $"--dev-root={dev.Path}", "--control-devices");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var (name, major, minor) in new[] { ("nvidiactl", 195u, 255u), ("nvidia-modeset", 195u, 254u), ("nvidia-uvm", 510u, 0u), ("nvidia-uvm-tools", 510u, 1u) })
        {
            Assert.True(FileStatus.TryLstat(dev[$"dev/{name}"], out var st), name);
            Assert.True(st.IsCharDevice, name);
            Assert.Equal((major, minor), (st.RdevMajor, st.RdevMinor));
            Assert.Equal(0b110_110_110, st.Permissions);
        }
        var again = Ctk("create-device-nodes", $"--driver-root={d["host"]}", $"--dev-root={dev.Path}", "--control-devices");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains($"Skipping: {dev.Path}/dev/nvidiactl already exists", again.Stderr);
    }

    [BinaryFact]
    public void A_host_without_nvidia_majors_is_a_clear_error()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllText(d["host/proc/devices"], "Character devices:\n  1 mem\n\nBlock devices:\n  8 sd\n");
        var r = Ctk("create-device-nodes", $"--driver-root={d["host"]}", "--control-devices", "--dry-run");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no 'nvidia' or 'nvidia-frontend' major in", r.Stderr);
    }

    [RootBinaryFact]
    public void Dev_char_symlinks_point_at_the_existing_nodes()
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "0:1", "--device-nodes", "char");
        using var links = new TempDir();
        var r = Ctk("create-dev-char-symlinks", $"--driver-root={d["host"]}", $"--dev-char-path={links.Path}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(d["host/dev/nvidia1"], new FileInfo(links["195:1"]).LinkTarget);
        Assert.Equal(d["host/dev/nvidiactl"], new FileInfo(links["195:255"]).LinkTarget);
        Assert.Equal(d["host/dev/nvidia-uvm-tools"], new FileInfo(links["510:1"]).LinkTarget);
        Assert.Equal(d["host/dev/nvidia-caps/nvidia-cap1"], new FileInfo(links["235:1"]).LinkTarget);
        Assert.False(File.Exists(links["226:1"]) || new FileInfo(links["226:1"]).LinkTarget is not null, "DRM nodes are not NVIDIA nodes");
    }

    [BinaryFact]
    public void Dev_char_symlinks_create_all_dry_run_lists_every_possible_node_and_writes_nothing()
    {
        using var d = Sim.Host("--gpus", "2", "--device-nodes", "plain");
        using var links = new TempDir();
        var dir = links["char"];
        var r = Ctk("create-dev-char-symlinks", $"--driver-root={d["host"]}", $"--dev-char-path={dir}", "--create-all", "--create-device-nodes", "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"Creating link {dir}/195:1 => {d["host"]}/dev/nvidia1", r.Stderr);
        Assert.Contains($"Creating link {dir}/510:0 => {d["host"]}/dev/nvidia-uvm", r.Stderr);
        Assert.Contains($"Creating link {dir}/235:2 => {d["host"]}/dev/nvidia-caps/nvidia-cap2", r.Stderr);
        Assert.Contains($"Skipping: {d["host"]}/dev/nvidiactl already exists", r.Stderr);
        Assert.False(Directory.Exists(dir));
    }

    [BinaryFact]
    public void Module_and_node_flags_without_create_all_are_ignored_with_a_warning()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        using var links = new TempDir();
        var r = Ctk("create-dev-char-symlinks", $"--driver-root={d["host"]}", $"--dev-char-path={links.Path}", "--load-kernel-modules", "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("load-kernel-modules is only applicable when create-all is set; ignoring", r.Stderr);
        Assert.DoesNotContain("modprobe", r.Stderr);
    }
}

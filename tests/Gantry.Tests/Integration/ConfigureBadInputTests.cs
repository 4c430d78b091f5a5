using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// Bad input to configure: one line on stderr with the original's prefix, exit code 1, and nothing mounted.
public sealed class ConfigureBadInputTests(SimulatedGpuHost host) : IClassFixture<SimulatedGpuHost>
{
    [RootTheory]
    [InlineData(new[] { "--device=7", "--utility" }, "nvidia-container-cli: device error: 7: unknown device\n")]
    [InlineData(new[] { "--device=GPU-nope", "--utility" }, "nvidia-container-cli: device error: GPU-nope: unknown device\n")]
    [InlineData(new[] { "--require=cuda>>12", "--utility" }, "nvidia-container-cli: requirement error: invalid expression\n")]
    [InlineData(new[] { "--require=color=blue", "--utility" }, "nvidia-container-cli: requirement error: invalid expression\n")]
    [InlineData(new[] { "--device=0", "--require=cuda>=99.0 driver<1", "--utility" },
        "nvidia-container-cli: requirement error: unsatisfied condition: cuda>=99.0, please update your driver to a newer version, or use an earlier cuda container\n")]
    [InlineData(new[] { "--device=1", "--require=arch<5.0", "--utility" }, "nvidia-container-cli: requirement error: unsatisfied condition: arch<5.0\n")]
    [InlineData(new[] { "--mig-config=0", "--utility" }, "nvidia-container-cli: mig-config error: 0: only 'all' devices are currently supported\n")]
    [InlineData(new[] { "--imex-channel=1048576", "--utility" }, "nvidia-container-cli: error parsing IMEX info: unsupported IMEX channel value: 1048576\n")]
    [InlineData(new[] { "--imex-channel=5", "--utility" }, "nvidia-container-cli: device error: IMEX channel 5: {HOST}/dev/nvidia-caps-imex-channels/channel5 is not a device node (is the channel created?)\n")]
    [InlineData(new[] { "--cuda-compat-mode=sometimes", "--utility" }, "nvidia-container-cli: container error: invalid option: cuda-compat-mode=sometimes (expected mount, ldconfig or disabled; the toolkit's 'hook' mode passes disabled)\n")]
    [InlineData(new[] { "--utility", "--ldconfig=@/nonexistent/ldconfig" }, "nvidia-container-cli: ldcache error: open failed: /nonexistent/ldconfig: no such file or directory " +
        "(name the host's ldconfig, e.g. nvidia-container-cli.ldconfig = \"@/sbin/ldconfig\" in config.toml)\n")]
    public void Bad_options_fail_before_anything_is_mounted(string[] args, string stderr)
    {
        using var c = new ConfigureContainer(host);
        var r = c.Configure(args);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(stderr.Replace("{HOST}", host.Root), r.Stderr);
        Assert.Empty(c.Mounts());
    }

    [RootFact]
    public void A_pid_that_is_gone_or_a_rootfs_that_is_not_a_directory_is_a_container_error()
    {
        using var c = new ConfigureContainer(host);
        var gone = TestEnvironment.Run(ConfigureContainer.Cli, "--root", host.Root, "configure", "--pid=4194303", "--utility", c.Rootfs);
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("nvidia-container-cli: container error: stat failed: /proc/4194303: no such file or directory\n", gone.Stderr);

        var file = c.Tree.InRoot("/etc/passwd");
        var notDir = c.ConfigureWith([], ["--utility"], rootfs: file);
        Assert.Equal(1, notDir.ExitCode);
        Assert.Equal($"nvidia-container-cli: container error: open failed: {file}: not a directory\n", notDir.Stderr);
        var missing = c.ConfigureWith([], ["--utility"], rootfs: c.Rootfs + "/nope");
        Assert.Equal($"nvidia-container-cli: container error: open failed: {c.Rootfs}/nope: no such file or directory\n", missing.Stderr);
        Assert.Empty(c.Mounts());
    }

    [RootFact]
    public void A_missing_driver_is_an_initialization_error()
    {
        using var c = new ConfigureContainer(host);
        using var empty = new TempDir();
        var r = TestEnvironment.Run(ConfigureContainer.Cli, "--root", empty.Path, "configure", $"--pid={c.Pid}", "--utility", c.Rootfs);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1", r.Stderr);
        Assert.Empty(c.Mounts());
    }

    [RootFact]
    public void Without_root_configure_is_a_permission_error()
    {
        var r = TestEnvironment.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ConfigureContainer.Cli, "configure", "--utility", "/rootfs");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("nvidia-container-cli: permission error: capability change failed: operation not permitted\n", r.Stderr);
    }
}

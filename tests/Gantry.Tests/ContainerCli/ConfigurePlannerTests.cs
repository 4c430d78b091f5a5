using Gantry.ContainerCli;
using Gantry.Discovery;
using Gantry.Tests.Support;

namespace Gantry.Tests.ContainerCli;

// The pure planning of `configure`: which mounts, nodes, cgroup rules and ldconfig run for which flags, compared
// with golden files in tests/fixtures/cli/configure (GANTRY_APPROVE=1 rewrites them).
public sealed class ConfigurePlannerTests
{
    const string Lib = "/host/usr/lib/x86_64-linux-gnu/";
    const string Version = "550.54.15";

    static HostDevice Dev(string path, uint major, uint minor) => new(path, "/host" + path, major, minor);

    static ConfigureInputs Inputs(DriverCapability caps, Func<ConfigureInputs, ConfigureInputs>? tweak = null)
    {
        var libs = new List<string>();
        if ((caps & DriverCapability.Utility) != 0) libs.AddRange([Lib + "libnvidia-ml.so." + Version, Lib + "libnvidia-cfg.so." + Version]);
        if ((caps & (DriverCapability.Compute | DriverCapability.Video)) != 0) libs.AddRange([Lib + "libcuda.so." + Version, Lib + "libnvidia-ptxjitcompiler.so." + Version]);
        if ((caps & DriverCapability.Video) != 0) libs.Add(Lib + "libnvidia-opticalflow.so." + Version);
        if ((caps & (DriverCapability.Graphics | DriverCapability.Display)) != 0) libs.AddRange([Lib + "libGLX_nvidia.so." + Version, Lib + "libnvidia-glcore.so." + Version]);
        var control = new List<HostDevice> { Dev("/dev/nvidiactl", 195, 255) };
        if ((caps & (DriverCapability.Compute | DriverCapability.Video)) != 0) control.AddRange([Dev("/dev/nvidia-uvm", 510, 0), Dev("/dev/nvidia-uvm-tools", 510, 1)]);
        if ((caps & DriverCapability.Display) != 0) control.Add(Dev("/dev/nvidia-modeset", 195, 254));
        var i = new ConfigureInputs
        {
            NvrmVersion = Version,
            Capabilities = caps,
            Layout = new ContainerLayout("/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/i386-linux-gnu", "/sbin/ldconfig", []),
            Libraries = libs,
            Libraries32 = libs.Select(l => l.Replace("x86_64-linux-gnu", "i386-linux-gnu")).ToList(),
            Binaries = (caps & DriverCapability.Utility) != 0 ? ["/host/usr/bin/nvidia-smi"] : [],
            Ipcs = (caps & DriverCapability.Utility) != 0 ? [new("/host/run/nvidia-persistenced/socket", "/run/nvidia-persistenced/socket")] : [],
            Firmware = [new($"/host/lib/firmware/nvidia/{Version}/gsp_ga10x.bin", $"/lib/firmware/nvidia/{Version}/gsp_ga10x.bin")],
            ProcDriverFiles = [("params", "ModifyDeviceFiles: 0\n", 0b100_100_100), ("version", "NVRM version: 550.54.15\n", 0b100_100_100)],
            ControlDevices = control,
            Gpus = [new SelectedGpu(1, Dev("/dev/nvidia1", 195, 1), new("/host/proc/driver/nvidia/gpus/0000:0f:00.0", "/proc/driver/nvidia/gpus/0000:0f:00.0"))],
        };
        return tweak is null ? i : tweak(i);
    }

    static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(TestEnvironment.RepoRoot, "tests/fixtures/cli/configure", name + ".txt");
        if (Environment.GetEnvironmentVariable("GANTRY_APPROVE") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests with GANTRY_APPROVE=1 once and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    public static TheoryData<string> Cases => new(PlanCases.Keys);

    static readonly Dictionary<string, Func<ConfigureInputs>> PlanCases = new()
    {
        ["compute-utility"] = () => Inputs(DriverCapability.Compute | DriverCapability.Utility),
        ["utility-no-devbind-no-cgroups"] = () => Inputs(DriverCapability.Utility, i => i with { NoDevbind = true, NoCgroups = true }),
        ["graphics-display"] = () => Inputs(DriverCapability.Graphics | DriverCapability.Display),
        ["video-compat32"] = () => Inputs(DriverCapability.Video | DriverCapability.Compat32),
        ["ngx-no-gpu"] = () => Inputs(DriverCapability.Ngx, i => i with { Gpus = [] }),
        ["mig-device"] = () => Inputs(DriverCapability.Utility, i => i with
        {
            MigProcFiles = [new("/host/proc/driver/nvidia/capabilities/gpu1/mig/gi7/access", "/proc/driver/nvidia/capabilities/gpu1/mig/gi7/access"),
                new("/host/proc/driver/nvidia/capabilities/gpu1/mig/gi7/ci0/access", "/proc/driver/nvidia/capabilities/gpu1/mig/gi7/ci0/access")],
            MigDevices = [Dev("/dev/nvidia-caps/nvidia-cap201", 235, 201), Dev("/dev/nvidia-caps/nvidia-cap202", 235, 202)],
        }),
        ["mig-config-all"] = () => Inputs(DriverCapability.Utility, i => i with
        {
            MigProcFiles = [new("/host/proc/driver/nvidia/capabilities", "/proc/driver/nvidia/capabilities")],
            MigDeviceDirectory = new("/host/dev/nvidia-caps", "/dev/nvidia-caps"),
            MigDirectoryRules = [(235, 1), (235, 201), (235, 202)],
        }),
        ["imex"] = () => Inputs(DriverCapability.Compute, i => i with { ImexChannels = [Dev("/dev/nvidia-caps-imex-channels/channel3", 234, 3)] }),
        ["compat-mount"] = () => Inputs(DriverCapability.Compute, i => i with
        {
            Layout = i.Layout with { CompatLibs = ["/usr/local/cuda-12.8/compat/libcuda.so.570.86.10", "/usr/local/cuda-12.8/compat/libcuda.so.550.1",
                "/usr/local/cuda-12.8/compat/libnvidia-ptxjitcompiler.so.470.1", "/usr/local/cuda-12.8/compat/libfoo.so.600"] },
        }),
        ["compat-ldconfig-host"] = () => Inputs(DriverCapability.Compute, i => i with
        {
            CompatMode = CudaCompatMode.Ldconfig,
            Ldconfig = "@/sbin/ldconfig.real",
            Layout = i.Layout with { CompatLibs = ["/usr/local/cuda-12.8/compat/libcuda.so.570.86.10", "/usr/local/cuda-12.8/compat/libcuda.so.470.1"] },
        }),
        ["compat-disabled"] = () => Inputs(DriverCapability.Compute, i => i with
        {
            CompatMode = CudaCompatMode.Disabled,
            Layout = i.Layout with { CompatLibs = ["/usr/local/cuda-12.8/compat/libcuda.so.570.86.10"] },
        }),
        // A WSL2 guest: /dev/dxg, the lxss libraries flat, the driver store in place; no procfs, firmware or per-GPU node.
        ["wsl"] = () => Inputs(DriverCapability.Compute | DriverCapability.Graphics, i => i with
        {
            NativeDriver = false,
            Libraries = ["/host/usr/lib/wsl/lib/libcuda.so.1", "/host/usr/lib/wsl/lib/libdxcore.so"],
            Libraries32 = [], Firmware = [], ProcDriverFiles = [], Gpus = [],
            ControlDevices = [Dev("/dev/dxg", 10, 126)],
            SamePathFiles = [new("/host/usr/lib/wsl/drivers/nv.inf_amd64_1/libcuda.so.1.1", "/usr/lib/wsl/drivers/nv.inf_amd64_1/libcuda.so.1.1")],
        }),
        // A Jetson without NVML: the CSV entries at their own paths, the sym links made, ldconfig over the libraries' directory.
        ["tegra-csv"] = () => new ConfigureInputs
        {
            NvrmVersion = "", Capabilities = DriverCapability.Compute | DriverCapability.Utility, NativeDriver = false,
            CompatMode = CudaCompatMode.Disabled,
            Layout = new ContainerLayout("/usr/bin", "/usr/lib/aarch64-linux-gnu", "/var/empty", "/sbin/ldconfig", []),
            ControlDevices = [Dev("/dev/nvmap", 10, 120), Dev("/dev/nvgpu/igpu0/ctrl", 492, 2)],
            SamePathFiles = [new("/host/usr/lib/aarch64-linux-gnu/tegra/libcuda.so.1.1", "/usr/lib/aarch64-linux-gnu/tegra/libcuda.so.1.1"),
                new("/host/usr/share/nvidia", "/usr/share/nvidia")],
            Symlinks = [("/usr/lib/aarch64-linux-gnu/libcuda.so", "tegra/libcuda.so.1"), ("/usr/lib/aarch64-linux-gnu/tegra/libcuda.so.1", "libcuda.so.1.1")],
            LdconfigFolders = ["/usr/lib/aarch64-linux-gnu/tegra"],
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_plan_for_each_flag_set_matches_its_golden_file(string name) =>
        AssertGolden(name, ConfigurePlanner.Plan(PlanCases[name]()).Describe());

    [Fact]
    public void Every_device_node_gets_a_read_write_cgroup_rule_unless_cgroups_are_off()
    {
        var plan = ConfigurePlanner.Plan(Inputs(DriverCapability.Compute));
        Assert.Equal(plan.DeviceNodes.Select(d => $"c {d.Major}:{d.Minor} rw"), plan.CgroupRules.Select(r => $"{r.Type} {r.Major}:{r.Minor} {r.Access}"));
        Assert.Empty(ConfigurePlanner.Plan(Inputs(DriverCapability.Compute, i => i with { NoCgroups = true })).CgroupRules);
    }

    [Fact]
    public void The_procfs_tmpfs_comes_before_every_mount_below_it()
    {
        var plan = ConfigurePlanner.Plan(Inputs(DriverCapability.Utility));
        Assert.Equal(ConfigurePlanner.ProcDriver, plan.Mounts[0].ContainerPath);
        Assert.Equal("tmpfs", plan.Mounts[0].Type);
        Assert.True(plan.Mounts.FindIndex(m => m.ContainerPath.StartsWith("/proc/driver/nvidia/gpus/", StringComparison.Ordinal)) > 0);
    }

    [Fact]
    public void Ldconfig_mode_needs_the_compat_libraries_in_one_directory()
    {
        var i = Inputs(DriverCapability.Compute, x => x with
        {
            CompatMode = CudaCompatMode.Ldconfig,
            Layout = x.Layout with { CompatLibs = ["/a/compat/libcuda.so.570.1", "/b/compat/libnvidia-ptxjitcompiler.so.570.1"] },
        });
        var e = Assert.Throws<ContainerCliException>(() => ConfigurePlanner.Plan(i));
        Assert.StartsWith("container error: the CUDA compat libraries are in more than one directory", e.Message);
    }

    [Theory]
    [InlineData("550.54.15", "libcuda.so.570.86.10", -1)]
    [InlineData("550.54.15", "libcuda.so.550.1", 0)]
    [InlineData("550.54.15", "libcuda.so.470.1", 1)]
    [InlineData("550.54.15", "libcuda.so.1", 1)]
    [InlineData("55", "libcuda.so.550", -1)]
    [InlineData("550.54.15", "libcuda.so", null)]
    [InlineData("550.54.15", "libcuda.so.x", null)]
    public void Compat_majors_compare_like_strncmp_on_the_digit_span(string driver, string lib, int? expected) =>
        Assert.Equal(expected, CudaCompatLibs.Compare(driver, "/c/" + lib));
}

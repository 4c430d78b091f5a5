using System.Text;
using Gantry.Common;
using Gantry.Config;
using Gantry.Oci;
using Gantry.Requests;
using Gantry.Runtime;
using Gantry.Tests.Oci;

namespace Gantry.Tests.Runtime;

public sealed class SpecModifierTests
{
    const string DockerGpusHook = """{"path":"/usr/bin/nvidia-container-runtime-hook","args":["nvidia-container-runtime-hook","prestart"]}""";

    static (string Json, RuntimeMode Mode) Modify(string json, RuntimeMode? mode, ToolkitConfig? config = null)
    {
        config ??= new ToolkitConfig();
        config.NvidiaContainerRuntime.CdiSpecDirs = ["/nonexistent-cdi-dir"];
        var log = new RuntimeLog(LogLevel.Debug, null, null, false);
        var injector = new CdiInjector(config, log, new EditsApplier(new FakeRuntimeSyscalls()), "/usr/bin/nvidia-ctk",
            (_, _, _) => throw new InvalidOperationException("discovery must not run"));
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes(json), "config.json", false);
        var m = new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, mode);
        return (Encoding.UTF8.GetString(spec.Serialize()).TrimEnd(), m);
    }

    [Fact]
    public void Legacy_mode_adds_the_prestart_hook_once()
    {
        var (json, _) = Modify("""{"process":{"env":[]}}""", RuntimeMode.Legacy);
        Assert.Equal("""{"process":{"env":[]},"hooks":{"prestart":[""" + DockerGpusHook + "]}}", json);
        var (again, _) = Modify(json, RuntimeMode.Legacy);
        Assert.Equal(json, again);
    }

    [Theory]
    [InlineData("hook", null, true)]
    [InlineData("hook", true, false)]
    [InlineData("ldconfig", null, false)]
    public void Legacy_mode_with_cuda_compat_mode_hook_adds_enable_cuda_compat_unless_disabled(string compatMode, bool? disabled, bool added)
    {
        var config = new ToolkitConfig();
        config.NvidiaContainerRuntime.LegacyCudaCompatMode = compatMode;
        config.Features.DisableCudaCompatLibHook = disabled;
        var log = new RuntimeLog(LogLevel.Debug, null, null, false);
        var inventory = new Gantry.Discovery.DriverInventory
        {
            Roots = new Gantry.Host.HostRoots("/"), Version = "550.54.15", GpuSource = "nvml", Gpus = [], LibraryDirectories = [], Libraries = [],
            Binaries = [], Firmware = [], IpcSockets = [], Graphics = Gantry.Discovery.GraphicsFiles.Empty, ControlNodes = [], ImexChannels = [], Warnings = [],
        };
        var injector = new CdiInjector(config, log, new EditsApplier(new FakeRuntimeSyscalls()), "/usr/bin/nvidia-cdi-hook", (_, _, _) => inventory);
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes("""{"process":{"env":["NVIDIA_VISIBLE_DEVICES=0"]}}"""), "config.json", false);
        new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, RuntimeMode.Legacy);
        var json = Encoding.UTF8.GetString(spec.Serialize());
        Assert.Contains("nvidia-container-runtime-hook", json);
        Assert.Equal(added, json.Contains("\"createContainer\":[{\"path\":\"/usr/bin/nvidia-cdi-hook\",\"args\":[\"nvidia-cdi-hook\",\"enable-cuda-compat\",\"--host-driver-version=550.54.15\"]"));
    }

    [Fact]
    public void Cdi_modes_remove_dockers_gpus_hook_and_leave_a_non_gpu_container_alone()
    {
        var (json, mode) = Modify("""{"process":{"env":["A=1"]},"hooks":{"prestart":[{"path":"/x/nvidia-container-toolkit"},{"path":"/other"}]}}""", null);
        Assert.Equal(RuntimeMode.JitCdi, mode);
        Assert.Equal("""{"process":{"env":["A=1"]},"hooks":{"prestart":[{"path":"/other"}]}}""", json);
    }

    [Fact]
    public void Qualified_names_select_cdi_mode_and_unknown_ones_fail_before_anything_changes()
    {
        var e = Assert.Throws<GantryException>(() => Modify("""{"process":{"env":["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=7"]}}""", null));
        Assert.StartsWith("failed to inject CDI devices: unresolvable CDI devices nvidia.com/gpu=7", e.Message);
    }

    [Fact]
    public void The_jit_vendor_cannot_be_mixed_with_other_cdi_devices()
    {
        var e = Assert.Throws<GantryException>(() =>
            Modify("""{"process":{"env":["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0,nvidia.com/gpu=1"]}}""", RuntimeMode.Cdi));
        Assert.StartsWith("requesting a CDI device with vendor 'runtime.nvidia.com' is not supported when requesting other CDI devices", e.Message);
    }

    [Fact]
    public void A_missing_driver_root_points_the_admin_at_the_config_key_not_at_a_flag()
    {
        var config = new ToolkitConfig();
        config.NvidiaContainerCli.Root = "/nonexistent/driver-root";
        config.NvidiaContainerRuntime.CdiSpecDirs = ["/nonexistent-cdi-dir"];
        var log = new RuntimeLog(Gantry.Common.LogLevel.Error, null, null, false);
        var injector = new CdiInjector(config, log, new EditsApplier(new FakeRuntimeSyscalls()), "/usr/bin/nvidia-ctk");
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes("""{"process":{"env":["NVIDIA_VISIBLE_DEVICES=0"]},"root":{"path":"rootfs"}}"""), "config.json", false);
        var e = Assert.Throws<Gantry.Common.GantryException>(() => new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, RuntimeMode.JitCdi));
        Assert.Contains("driver root /nonexistent/driver-root does not exist; point nvidia-container-cli.root in ", e.Message);
        Assert.Contains("config.toml at the directory the driver is installed in", e.Message);
        Assert.DoesNotContain("--driver-root", e.Message);
    }
}

using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Config;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Simulation;
using Gantry.Tests.Runtime;

namespace Gantry.Tests.Cdi;

// enable-coherent-annotations, in-process: which GPU goes to which spec, a GPU whose mode NVML could not read is left
// out with the original's warning, and the file names the split specs go to.
public sealed class CoherenceSplitTests : IDisposable
{
    readonly JitHost _host = new(new SimulationOptions { GpuCount = 3, WithNvml = false, RealDeviceNodes = false });

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Ats_is_coherent_other_modes_are_not_and_an_unreadable_mode_is_a_warning_and_no_split()
    {
        var inv = DriverDiscovery.Discover(new HostRoots(_host.Root), new DiscoveryOptions { UseNvml = false }, Log.Silent);
        int?[] modes = [GpuInfo.AddressingModeAts, GpuInfo.AddressingModeUnreadable, null];
        inv = inv with { Gpus = inv.Gpus.Select((g, i) => g with { AddressingMode = modes[i] }).ToList() };
        var messages = new StringWriter();
        var specs = SpecGenerator.GenerateAll(inv, new HookFactory("/usr/bin/nvidia-cdi-hook", [], []),
            new GenerateOptions { NamingStrategies = ["index"], SplitByCoherence = true }, new Log(messages, LogLevel.Info));

        Assert.Equal(["", ".coherent", ".noncoherent"], specs.Select(s => s.FileInfix));
        Assert.Equal(["0", "1", "2", "all"], specs[0].Spec.Devices.Select(d => d.Name));
        Assert.Equal("nvidia.com/gpu.coherent", specs[1].Spec.Kind);
        Assert.Equal(["0", "all"], specs[1].Spec.Devices.Select(d => d.Name));
        Assert.Equal("nvidia.com/gpu.noncoherent", specs[2].Spec.Kind);
        Assert.Equal(["2", "all"], specs[2].Spec.Devices.Select(d => d.Name));
        Assert.Contains("Ignoring error getting device annotations for device(s) [1]: failed to check device coherence", messages.ToString());
        Assert.All(specs, s => Assert.Equal(specs[0].Spec.ContainerEdits!.Env, s.Spec.ContainerEdits!.Env));
    }

    [Fact]
    public void Without_the_flag_there_is_the_main_spec_only()
    {
        var inv = DriverDiscovery.Discover(new HostRoots(_host.Root), new DiscoveryOptions { UseNvml = false }, Log.Silent);
        inv = inv with { Gpus = inv.Gpus.Select(g => g with { AddressingMode = GpuInfo.AddressingModeAts }).ToList() };
        Assert.Single(SpecGenerator.GenerateAll(inv, new HookFactory("/usr/bin/nvidia-cdi-hook", [], []), new GenerateOptions(), Log.Silent));
    }

    [Theory]
    [InlineData("/etc/cdi/nvidia.yaml", "/etc/cdi/nvidia.coherent.yaml")]
    [InlineData("/etc/cdi/nvidia.json", "/etc/cdi/nvidia.coherent.json")]
    [InlineData("/etc/cdi/nvidia", "/etc/cdi/nvidia.coherent")]
    [InlineData("/etc/cdi.d/nvidia", "/etc/cdi.d/nvidia.coherent")]
    [InlineData("-", "-")]
    [InlineData("", "")]
    public void The_infix_goes_before_the_extension_of_the_file_name(string output, string expected) =>
        Assert.Equal(expected, CoherenceSplit.WithInfix(output, CoherenceSplit.CoherentInfix));

    [Fact]
    public void The_runtime_accepts_the_flag_for_its_just_in_time_specs()
    {
        var config = new ToolkitConfig();
        config.NvidiaContainerRuntime.JitCdiFeatureFlags = [NvcdiFeatures.CoherentAnnotations];
        var spec = _host.Modify(config, "NVIDIA_VISIBLE_DEVICES=0");
        Assert.Contains("/dev/nvidia0", SpecView.Devices(spec));
    }
}

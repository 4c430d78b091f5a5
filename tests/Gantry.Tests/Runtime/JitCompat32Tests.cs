using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Simulation;
using static Gantry.Tests.Runtime.SpecView;

namespace Gantry.Tests.Runtime;

// jit-cdi with the compat32 capability (or all) also mounts the driver's 32-bit libraries, found as
// libnvidia-container finds them (the ld.so.cache's i386 entries), at their host paths, with their links and their
// directory in update-ldcache. Without compat32, and in `cdi generate` (as in the original), there are none.
public sealed class JitCompat32Tests : IDisposable
{
    const string Lib32 = "/usr/lib/i386-linux-gnu";
    readonly JitHost _host = new(new SimulationOptions { GpuCount = 1, WithNvml = false, RealDeviceNodes = false, WithCompat32 = true });

    public void Dispose() => _host.Dispose();

    List<string> Mounted32(System.Text.Json.Nodes.JsonObject spec) =>
        MountDestinations(spec).Where(m => m.StartsWith(Lib32 + "/", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    [Fact]
    public void Compat32_adds_the_32_bit_libraries_of_the_asked_capabilities_with_their_links_and_ldcache_folder()
    {
        var spec = _host.Modify("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility,compat32");
        Assert.Equal(["libcuda.so.550.54.15", "libnvidia-ml.so.550.54.15", "libnvidia-opencl.so.550.54.15", "libnvidia-ptxjitcompiler.so.550.54.15"], Mounted32(spec));
        var hooks = SpecView.Hooks(spec);
        Assert.Contains(hooks, h => h.StartsWith("update-ldcache", StringComparison.Ordinal) && h.Contains("--folder " + Lib32, StringComparison.Ordinal)
                                    && h.Contains("--folder /usr/lib/x86_64-linux-gnu", StringComparison.Ordinal));
        Assert.Contains(hooks, h => h.StartsWith("create-symlinks", StringComparison.Ordinal) && h.Contains($"libcuda.so.1::{Lib32}/libcuda.so", StringComparison.Ordinal));
        // The library directory variable names the native directory only.
        Assert.Contains("NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu", Env(spec));
    }

    [Fact]
    public void The_32_bit_libraries_follow_the_other_capabilities()
    {
        Assert.Equal(["libnvidia-ml.so.550.54.15"], Mounted32(_host.Modify("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=utility,compat32")));
        Assert.Equal(6, Mounted32(_host.Modify("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all")).Count);
    }

    [Fact]
    public void Without_compat32_there_are_none()
    {
        var spec = _host.Modify("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics");
        Assert.Empty(Mounted32(spec));
        Assert.DoesNotContain(SpecView.Hooks(spec), h => h.Contains(Lib32, StringComparison.Ordinal));
    }

    [Fact]
    public void Discovery_finds_them_only_when_asked_so_cdi_generate_stays_the_originals()
    {
        var roots = new HostRoots(_host.Root);
        var plain = DriverDiscovery.Discover(roots, new DiscoveryOptions { UseNvml = false }, Log.Stderr(LogLevel.Error));
        Assert.Empty(plain.Libraries32);
        Assert.DoesNotContain(plain.Libraries, l => l.Contains("i386", StringComparison.Ordinal));
        var with = DriverDiscovery.Discover(roots, new DiscoveryOptions { UseNvml = false, Compat32 = true }, Log.Stderr(LogLevel.Error));
        Assert.Equal(6, with.Libraries32.Count);
        Assert.All(with.Libraries32, l => Assert.StartsWith(roots.InDriverRoot(Lib32) + "/", l));
    }
}

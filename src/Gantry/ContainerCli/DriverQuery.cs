using Gantry.Discovery;
using Gantry.Discovery.Inventory;
using Gantry.Host;

namespace Gantry.ContainerCli;

/// <summary>What nvc_init + nvc_driver_info_new + nvc_device_info_new give the CLI: driver facts, GPUs and the root's cache.</summary>
internal sealed record CliDriver(HostRoots Roots, string NvrmVersion, string? CudaVersion, IReadOnlyList<GpuInfo> Gpus, LdCache Cache, string CachePath);

// Loads the driver under --root in the original's order, so failures carry the original's prefixes:
// a missing root or NVML is an "initialization error", an unreadable ld.so.cache a "detection error".
internal static class DriverQuery
{
    public static CliDriver Load(CliGlobals g)
    {
        var root = Path.GetFullPath(g.Root);
        g.Log.Info($"using root {root}");
        g.Log.Info($"using ldcache {g.LdCache}");
        if (!Directory.Exists(root))
            throw new ContainerCliException($"initialization error: open failed: {root}: no such file or directory");
        var roots = new HostRoots(root);
        if (g.LoadKmods) KernelModuleLoader.ForContainerCli(roots, g.Log);

        // A WSL2 guest has its driver in /usr/lib/wsl and /dev/dxg instead of /dev/nvidia*: said plainly rather than
        // as a missing driver, with the routes that do handle it.
        if (WslDriver.IsWsl(roots))
            throw new ContainerCliException($"initialization error: {root} is a WSL2 host (/dev/dxg, the driver under /usr/lib/wsl), which Gantry's " +
                                            "nvidia-container-cli (and so the --gpus hook) does not handle yet; use the runtime in its default mode " +
                                            "(--runtime=nvidia, jit-cdi) or a CDI spec from 'nvidia-ctk cdi generate --mode=wsl'");
        // The original dlopens libnvidia-ml.so.1 inside the root; without it there is no driver to talk to.
        var locator = new LibraryLocator(roots, null, g.Log);
        if (locator.Locate("libnvidia-ml.so.1").Count == 0)
            throw new ContainerCliException("initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: " +
                                            $"no such file or directory (searched the ld.so.cache and library directories under {root})");

        var inventory = DriverDiscovery.Discover(roots, new DiscoveryOptions
        {
            Graphics = false, QueryNvml = NvmlSnapshotCache.QueryFor(null, g.Log),
        }, g.Log);
        if (inventory.GpuSource != "nvml")
            Console.Error.WriteLine($"{ContainerCliCommand.Program}: warning: NVML under {root} could not be used; GPU facts come from " +
                                    "/proc/driver/nvidia, so CUDA version, brand and architecture print as (null) and MIG devices are unknown");

        var cachePath = CacheHostPath(roots, g.LdCache);
        if (!File.Exists(cachePath))
            throw new ContainerCliException($"detection error: open failed: {cachePath}: no such file or directory");
        if (!LdCache.TryLoad(cachePath, out var cache, out var error))
            throw new ContainerCliException($"detection error: {error}");
        return new CliDriver(roots, inventory.Version, inventory.CudaVersion, inventory.Gpus, cache, cachePath);
    }

    // --ldcache names a path inside the root; symlinks in it resolve inside the root too.
    static string CacheHostPath(HostRoots roots, string ldcache)
    {
        var host = roots.InDriverRoot(ldcache);
        return DriverRootPath.ResolveFile(roots.DriverRoot, host) ?? host;
    }

    /// <summary>NVML brand as the original prints it ("Tesla", "GeForceRTX", …); discovery keeps the lower-case name.</summary>
    public static string? BrandName(string? lower) => lower switch
    {
        null => null,
        "quadro" => "Quadro", "tesla" => "Tesla", "nvs" => "NVS", "grid" => "GRID", "geforce" => "GeForce", "titan" => "TITAN",
        "vapps" => "VApps", "vpc" => "VPC", "vcs" => "VCS", "vws" => "VWS", "cloudgaming" => "CloudGaming",
        "quadrortx" => "QuadroRTX", "nvidiartx" => "NvidiaRTX", "nvidia" => "Nvidia", "geforcertx" => "GeForceRTX", "titanrtx" => "TitanRTX",
        _ => "Unknown",
    };

    /// <summary>"%08x:%02x:%02x.0": the original always prints function 0.</summary>
    public static string BusLocation(string busId) => busId.Length > 2 && busId[^2] == '.' ? busId[..^1] + "0" : busId;
}

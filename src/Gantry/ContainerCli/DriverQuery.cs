using Gantry.Common;
using Gantry.Discovery;
using Gantry.Discovery.Inventory;
using Gantry.Discovery.Tegra;
using Gantry.Host;

namespace Gantry.ContainerCli;

/// <summary>
/// What nvc_init + nvc_driver_info_new + nvc_device_info_new give the CLI: driver facts, GPUs and the root's cache.
/// On a WSL2 guest <see cref="Wsl"/> is its driver (/dev/dxg, the driver store); on a Jetson without NVML
/// <see cref="Csv"/> holds what its CSV mount specs name, and the driver facts the original prints as (null) are null.
/// </summary>
internal sealed record CliDriver(HostRoots Roots, string? NvrmVersion, string? CudaVersion, IReadOnlyList<GpuInfo> Gpus, LdCache Cache, string CachePath)
{
    public WslDriver? Wsl { get; init; }
    public CsvHostFiles? Csv { get; init; }
}

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
        // A WSL2 guest has no kernel modules to load: its GPU is the paravirtual /dev/dxg.
        if (WslDriver.IsWsl(roots)) return LoadWsl(roots, g);
        if (g.LoadKmods) KernelModuleLoader.ForContainerCli(roots, g.Log);
        if (TegraPlatform.IsTegraWithoutNvml(roots, g.Log)) return LoadTegra(roots, g);

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

        var (cache, cachePath) = LoadCache(roots, g);
        return new CliDriver(roots, inventory.Version, inventory.CudaVersion, inventory.Gpus, cache, cachePath);
    }

    // WSL2 (libnvidia-container's dxcore path): NVML from the driver store, every GPU behind /dev/dxg (minor 0, no
    // MIG), the libraries from the root's ld.so.cache (those in /usr/lib/wsl/lib), the driver store's files.
    static CliDriver LoadWsl(HostRoots roots, CliGlobals g)
    {
        g.Log.Info("dxcore layer initialized successfully");
        if (g.LoadKmods) g.Log.Info("skipping kernel modules load on WSL");
        WslDriver wsl;
        try { wsl = WslDriver.Find(roots, g.Log)!; }
        catch (GantryException e) { throw new ContainerCliException($"initialization error: WSL environment detected but no adapters were found: {e.Message}"); }
        if (!File.Exists(wsl.Nvml))
            throw new ContainerCliException($"initialization error: load library failed: {wsl.Nvml}: cannot open shared object file: no such file or directory");
        if (!wsl.TryQueryNvml(out var nvml, out var error))
            throw new ContainerCliException($"initialization error: nvml error: {error} (NVML of the WSL driver store {wsl.Store})");
        var gpus = nvml.Gpus;
        foreach (var x in gpus) g.Log.Info($"listing dxcore adapter {x.Index} ({x.Uuid} at {x.BusId})");
        var (cache, cachePath) = LoadCache(roots, g);
        return new CliDriver(roots, nvml.DriverVersion, nvml.CudaVersionText, gpus, cache, cachePath) { Wsl = wsl };
    }

    // A Jetson without NVML (the original's libnvidia-container0 "jetpack" path): what the CSV mount specs under the
    // root name, and one GPU whose facts only CUDA would give, so they print as (null).
    static CliDriver LoadTegra(HostRoots roots, CliGlobals g)
    {
        var directory = roots.InDriverRoot(CsvHostFiles.DefaultDirectory);
        var files = CsvMountSpecs.Files(directory, allFiles: true);
        if (files.Count == 0) g.Log.Warning($"no CSV mount specs in {directory}");
        List<CsvEntry> entries;
        try { entries = CsvMountSpecs.Load(files, g.Log); }
        catch (GantryException e) { throw new ContainerCliException($"detection error: {e.Message}"); }
        var csv = CsvHostFiles.Locate(roots, entries, g.Log);
        var gpu = new GpuInfo { Index = 0, Minor = 0, Uuid = "", BusId = "" };
        return new CliDriver(roots, null, null, [gpu], new LdCache([], LdCacheFormat.New), "") { Csv = csv };
    }

    static (LdCache, string) LoadCache(HostRoots roots, CliGlobals g)
    {
        var cachePath = CacheHostPath(roots, g.LdCache);
        if (!File.Exists(cachePath))
            throw new ContainerCliException($"detection error: open failed: {cachePath}: no such file or directory");
        if (!LdCache.TryLoad(cachePath, out var cache, out var error))
            throw new ContainerCliException($"detection error: {error}");
        return (cache, cachePath);
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

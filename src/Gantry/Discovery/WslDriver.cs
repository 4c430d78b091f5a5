using Gantry.Host;

namespace Gantry.Discovery;

/// <summary>
/// The driver of a WSL2 guest (toolkit.md §4.4 wsl): the paravirtual GPU node /dev/dxg, libdxcore.so in
/// /usr/lib/wsl/lib, and the driver store, the directory under /usr/lib/wsl/drivers that holds libcuda.so.1.1. The
/// original asks libdxcore for the store paths of the adapters; Gantry looks for the store under the driver root
/// (the first package, by name, that holds libcuda.so.1.1), which is the same directory on a host with one driver.
/// </summary>
internal sealed record WslDriver(HostRoots Roots, string Dxg, string Dxcore, string Store, IReadOnlyList<string> StoreFiles)
{
    public const string LibDir = "/usr/lib/wsl/lib";
    public const string DriversDir = "/usr/lib/wsl/drivers";

    /// <summary>The files the original requires in the store; it also takes every other .so*, .bin and .dll there.</summary>
    public static readonly string[] RequiredStoreFiles =
        ["libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ptxjitcompiler.so.1", "libnvidia-ml.so.1", "libnvidia-ml_loader.so", "libnvdxgdmal.so.1", "nvcubins.bin", "nvidia-smi"];

    /// <summary>The store files nvidia-container-cli mounts (the required ones present; CDI takes every StoreFiles entry).</summary>
    public IEnumerable<string> Components => StoreFiles.Where(f => RequiredStoreFiles.Contains(Path.GetFileName(f)));

    /// <summary>The NVML of the guest: the store's libnvidia-ml.so.1, as the original loads it.</summary>
    public string Nvml => Path.Combine(Store, "libnvidia-ml.so.1");

    /// <summary>
    /// Asks the store's NVML; its GPUs come as a guest sees them: every one behind /dev/dxg (minor 0), without MIG.
    /// </summary>
    public bool TryQueryNvml([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NvmlSnapshot? snapshot,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        if (!Gantry.Discovery.Nvml.NvmlLibrary.TryQuery(Nvml, out snapshot, out error)) return false;
        snapshot = snapshot with { Gpus = snapshot.Gpus.Select(g => g with { Minor = 0, MigEnabled = false, MigDevices = [] }).ToList() };
        return true;
    }

    /// <summary>True when the host looks like a WSL2 guest: /dev/dxg and libdxcore.so in /usr/lib/wsl/lib.</summary>
    public static bool IsWsl(HostRoots roots) =>
        FileStatus.TryLstat(roots.InDevRoot("/dev/dxg"), out _) && File.Exists(roots.InDriverRoot(LibDir + "/libdxcore.so"));

    /// <summary>The WSL driver under these roots, or null when this is not a WSL2 guest; a guest without a store is an error.</summary>
    public static WslDriver? Find(HostRoots roots, Common.Log log)
    {
        if (!IsWsl(roots)) return null;
        var drivers = roots.InDriverRoot(DriversDir);
        var stores = Directory.Exists(drivers)
            ? Directory.GetDirectories(drivers).Order(StringComparer.Ordinal).Where(d => File.Exists(Path.Combine(d, "libcuda.so.1.1"))).ToList()
            : [];
        if (stores.Count == 0)
            throw new Common.GantryException($"WSL2 guest (/dev/dxg, {LibDir}/libdxcore.so) without an NVIDIA driver store: no {DriversDir}/*/libcuda.so.1.1 under {roots.DriverRoot}; " +
                                             "install the NVIDIA driver for WSL on Windows");
        if (stores.Count > 1) log.Warning($"Several NVIDIA driver stores in {drivers}; using {Path.GetFileName(stores[0])}");
        var store = stores[0];
        var files = new List<string>();
        foreach (var name in RequiredStoreFiles)
        {
            var path = Path.Combine(store, name);
            if (File.Exists(path)) files.Add(path);
            else log.Warning($"WSL driver store {store} has no {name}");
        }
        foreach (var path in Directory.GetFiles(store).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if ((Glob.Match("*.so*", name) || name.EndsWith(".bin", StringComparison.Ordinal) || name.EndsWith(".dll", StringComparison.Ordinal)) && !files.Contains(path))
                files.Add(path);
        }
        return new WslDriver(roots, roots.InDevRoot("/dev/dxg"), roots.InDriverRoot(LibDir + "/libdxcore.so"), store, files);
    }
}

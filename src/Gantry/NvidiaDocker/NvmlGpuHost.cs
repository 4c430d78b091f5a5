using System.Globalization;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Host;

namespace Gantry.NvidiaDocker;

// The GPUs of a host as discovery found them, with device nodes under the host's device root.
internal class InventoryGpuHost : IGpuHost
{
    public string DriverVersion { get; }
    public string CudaVersion { get; }
    public IReadOnlyList<HostGpu> Gpus { get; protected init; }
    public IReadOnlyList<DeviceNode> ControlDevices { get; }

    public InventoryGpuHost(DriverInventory inventory)
        : this(inventory.Roots, inventory.Version, inventory.CudaVersion, inventory.Gpus) { }

    public InventoryGpuHost(HostRoots roots, string driverVersion, string? cudaVersion, IReadOnlyList<GpuInfo> gpus)
    {
        DriverVersion = driverVersion;
        CudaVersion = cudaVersion ?? throw new GantryException(
            $"the CUDA version of the driver under {roots.DriverRoot} is unknown: NVML (libnvidia-ml.so.1) could not be used");
        Gpus = gpus.Select(g => new HostGpu(g, GpuDetails.None, Node(roots, $"/dev/nvidia{g.Minor}"), 0, [])).ToList();
        // nvidiactl and nvidia-uvm always (the uvm module is loaded before this), uvm-tools when it is there.
        var controls = new List<DeviceNode> { Node(roots, "/dev/nvidiactl"), Node(roots, "/dev/nvidia-uvm") };
        var tools = Node(roots, "/dev/nvidia-uvm-tools");
        if (Path.Exists(tools.HostPath)) controls.Add(tools);
        ControlDevices = controls;
    }

    static DeviceNode Node(HostRoots roots, string path) => new(roots.InDevRoot(path), path);

    public virtual GpuStatus Status(int index) => throw new InvalidOperationException("live GPU status needs NVML");

    /// <summary>
    /// Only what a container's command line needs (driver and CUDA version, GPU minors and UUIDs), straight from
    /// NVML in the driver root: the wrapper runs for every container, full discovery would cost it ~50 ms.
    /// </summary>
    public static InventoryGpuHost FromNvml(HostRoots roots)
    {
        if (!Directory.Exists(roots.DriverRoot))
            throw new GantryException($"driver root {roots.DriverRoot} does not exist; set NV_DRIVER_ROOT to the directory the driver is installed in");
        var library = FromLdCache(roots) ?? new LibraryLocator(roots, null, Log.Silent).Locate("libnvidia-ml.so.1").FirstOrDefault()
            ?? throw new GantryException($"could not load NVML library: libnvidia-ml.so.1 was not found under {roots.DriverRoot}");
        if (!NvmlLibrary.TryQuery(library, out var nvml, out var error)) throw new GantryException(error);
        return new InventoryGpuHost(roots, nvml.DriverVersion, nvml.CudaVersionText, nvml.Gpus);
    }

    // One cache entry resolved, not every entry's link chain as the locator does (hundreds on a real host).
    static string? FromLdCache(HostRoots roots)
    {
        var path = roots.InDriverRoot("/etc/ld.so.cache");
        if (!File.Exists(path) || !LdCache.TryLoad(path, out var cache, out _)) return null;
        var (arch, _) = LdCache.ArchesFor(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture);
        var entry = cache.Entries.FirstOrDefault(e => e.Key == "libnvidia-ml.so.1" && LdCache.IsFor(e, arch));
        return entry is null ? null : DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(entry.Value));
    }
}

// The plugin's view: discovery plus an NVML session kept open for live readings, NVML's limits per GPU, the
// NUMA node from sysfs and the PCIe topology between every pair of GPUs.
internal sealed class NvmlGpuHost : InventoryGpuHost, IDisposable
{
    readonly NvmlSession _nvml;

    NvmlGpuHost(DriverInventory inventory, NvmlSession nvml) : base(inventory)
    {
        _nvml = nvml;
        var roots = inventory.Roots;
        var gpus = nvml.Snapshot.Gpus;
        Gpus = Gpus.Select((g, i) => g with
        {
            Details = nvml.Details(i),
            NumaNode = NumaNode(roots, g.Info.BusId),
            Peers = Enumerable.Range(0, gpus.Count).Where(j => j != i)
                .Select(j => (j, level: nvml.Topology(i, j))).Where(p => p.level is not null)
                .Select(p => new GpuPeer(gpus[p.j].BusId, p.level)).ToList(),
        }).ToList();
    }

    /// <summary>Opens NVML in the driver root; the plugin cannot serve without it.</summary>
    public static NvmlGpuHost Open(DriverInventory inventory, Log log)
    {
        var roots = inventory.Roots;
        var library = new LibraryLocator(roots, null, log).Locate("libnvidia-ml.so.1").FirstOrDefault()
            ?? throw new GantryException($"libnvidia-ml.so.1 was not found under {roots.DriverRoot}");
        if (!NvmlSession.TryOpen(library, out var session, out var error)) throw new GantryException(error);
        try { return new NvmlGpuHost(inventory, session); }
        catch { session.Dispose(); throw; }
    }

    public override GpuStatus Status(int index) => _nvml.Status(index);

    public void Dispose() => _nvml.Dispose();

    // sysfs names PCI devices with a 4-digit domain; no file (no NUMA) or -1 reads as node 0, as the original did.
    static uint NumaNode(HostRoots roots, string busId)
    {
        var name = busId.Length > 12 ? busId[4..] : busId;
        try
        {
            var text = File.ReadAllText(roots.InSys($"bus/pci/devices/{name.ToLowerInvariant()}/numa_node")).Trim();
            return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var node) && node > 0 ? (uint)node : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
    }
}

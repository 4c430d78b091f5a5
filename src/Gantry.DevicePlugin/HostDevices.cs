using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Host;

namespace Gantry.DevicePlugin;

// The node as the plugin sees it: Gantry's discovery (GPUs, MIG devices, device nodes), an NVML session kept open
// for topology and health events, and the NUMA node of each GPU from sysfs.
internal sealed class HostDevices : IDeviceNodes, IDisposable
{
    readonly DeviceEditsBuilder _edits;

    public DriverInventory Inventory { get; }
    public NvmlSession Nvml { get; }
    public IReadOnlyList<GpuInfo> Gpus => Nvml.Snapshot.Gpus;

    HostDevices(DriverInventory inventory, NvmlSession nvml)
    {
        Inventory = inventory;
        Nvml = nvml;
        _edits = new DeviceEditsBuilder(inventory, new HookFactory("/bin/false", [], []), additionalGids: false, drm: false);
    }

    public static HostDevices Open(string driverRoot, string? devRoot, Log log)
    {
        var roots = new HostRoots(driverRoot, devRoot);
        if (!Directory.Exists(roots.DriverRoot))
            throw new GantryException($"driver root {roots.DriverRoot} does not exist; point --driver-root at the directory the driver is installed in");
        var inventory = DriverDiscovery.Discover(roots, new DiscoveryOptions { Graphics = false }, Log.Silent);
        var library = new LibraryLocator(roots, null, log).Locate("libnvidia-ml.so.1").FirstOrDefault()
            ?? throw new GantryException($"libnvidia-ml.so.1 was not found under {roots.DriverRoot}: is the driver installed there?");
        if (!NvmlSession.TryOpen(library, out var session, out var error)) throw new GantryException(error);
        return new HostDevices(inventory, session);
    }

    /// <summary>The NUMA node sysfs gives the GPU's PCI device; null when it has none (-1) or the file is missing.</summary>
    public long? NumaNode(GpuInfo gpu)
    {
        var name = (gpu.BusId.Length > 12 ? gpu.BusId[4..] : gpu.BusId).ToLowerInvariant();
        try
        {
            var text = File.ReadAllText(Inventory.Roots.InSys($"bus/pci/devices/{name}/numa_node")).Trim();
            return long.TryParse(text, out var node) && node >= 0 ? node : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>NVML's topology level between two GPUs (lower is closer); the farthest when NVML cannot tell.</summary>
    public int Distance(int a, int b) => (int)(Nvml.Topology(a, b) ?? GpuTopologyLevel.System);

    public IReadOnlyList<(string ContainerPath, string HostPath)> Control() =>
        Inventory.ControlNodes.Select(n => (Inventory.Roots.DevToContainerPath(n), n)).ToList();

    public IReadOnlyList<(string ContainerPath, string HostPath)> For(PluginDevice device)
    {
        var edits = device.Mig is null ? _edits.ForGpu(device.Gpu) : _edits.ForMig(device.Gpu, device.Mig);
        return (edits.DeviceNodes ?? []).Select(n => (n.Path, n.HostPath ?? n.Path)).ToList();
    }

    public void Dispose() => Nvml.Dispose();
}

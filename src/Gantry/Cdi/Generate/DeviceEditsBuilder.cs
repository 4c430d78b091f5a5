using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

// The edits that belong to one GPU or one MIG device: its device nodes and (unless told not to) DRM nodes and links.
internal sealed class DeviceEditsBuilder(DriverInventory inv, HookFactory hooks, bool additionalGids, bool drm = true)
{
    readonly DeviceNodeLocator _nodes = new(inv.Roots, inv.AcceptsPlainDeviceFiles);
    // Read only when a MIG device is built: the file lists every possible cap of every GPU.
    readonly Lazy<Dictionary<string, int>> _migMinors = new(() => ProcDriver.MigMinors(inv.Roots));

    public ContainerEdits ForGpu(GpuInfo gpu)
    {
        var edits = new ContainerEdits { DeviceNodes = new() };
        AddNode(edits, $"/dev/nvidia{gpu.Minor}");
        if (!drm) return edits;
        var drmNodes = _nodes.DrmNodes(gpu.BusId);
        foreach (var host in drmNodes) AddNode(edits, inv.Roots.DevToContainerPath(host));
        if (hooks.CreateSymlinks(_nodes.DrmByPathLinks(gpu.BusId, drmNodes)) is { } h) edits.Hooks = [h];
        AddChmod(edits);
        return edits;
    }

    public ContainerEdits ForMig(GpuInfo parent, MigInfo mig)
    {
        var edits = new ContainerEdits { DeviceNodes = new() };
        AddNode(edits, $"/dev/nvidia{parent.Minor}");
        foreach (var cap in new[] { $"gpu{parent.Minor}/gi{mig.GpuInstanceId}/access", $"gpu{parent.Minor}/gi{mig.GpuInstanceId}/ci{mig.ComputeInstanceId}/access" })
        {
            if (!_migMinors.Value.TryGetValue(cap, out var minor))
                throw new GantryException($"MIG device {mig.Uuid}: {cap} is not listed in {inv.Roots.InProc("driver/nvidia-caps/mig-minors")}");
            AddNode(edits, $"/dev/nvidia-caps/nvidia-cap{minor}");
        }
        AddChmod(edits);
        return edits;
    }

    // --enable-hook=chmod: the directories of the DRM and caps nodes made world-readable (disabled by default).
    void AddChmod(ContainerEdits edits)
    {
        if (hooks.Chmod(edits.DeviceNodes!.Select(n => n.Path)) is { } chmod) (edits.Hooks ??= new()).Add(chmod);
    }

    void AddNode(ContainerEdits edits, string containerPath)
    {
        var host = _nodes.Find(containerPath);
        if (host is null) return;
        edits.DeviceNodes!.Add(EditsFactory.Node(containerPath, host));
        if (additionalGids && EditsFactory.AdditionalGid(host) is { } gid) (edits.AdditionalGids ??= new()).Add(gid);
    }
}

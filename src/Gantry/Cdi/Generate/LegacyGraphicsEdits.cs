using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

// Legacy mode's graphics modifier (toolkit.md §1.4): nvidia-container-cli mounts the driver's libraries, and the
// runtime adds what the CLI does not: the DRM nodes of the requested GPUs with their /dev/dri/by-path links, and
// the graphics files (EGL platform libraries, X.Org modules, ICD and Vulkan configs, their symlinks) that jit-cdi
// also injects (CommonEditsBuilder.AddGraphics).
internal static class LegacyGraphicsEdits
{
    /// <summary>Whether the container asked for graphics: the raw NVIDIA_DRIVER_CAPABILITIES (no default, no
    /// trimming, as the original reads it) names graphics, display or all.</summary>
    public static bool Wanted(string? rawCapabilities) =>
        (rawCapabilities ?? "").Split(',').Any(c => c is "graphics" or "display" or "all");

    /// <param name="ids">The request's ids: "all", "none", or ids as written. A GPU is selected when an id is "all" or
    /// equals its device minor, its UUID or its PCI bus location (the fields of /proc/driver/nvidia/gpus/*/information).</param>
    public static ContainerEdits Build(DriverInventory inv, IReadOnlyList<string> ids, HookFactory hooks, bool additionalGids)
    {
        var nodes = new DeviceNodeLocator(inv.Roots, inv.AcceptsPlainDeviceFiles);
        var selected = inv.Gpus.Where(g => ids.Any(id => id == "all" || id == g.Minor.ToString(System.Globalization.CultureInfo.InvariantCulture)
            || id == g.Uuid || id == ProcDriver.ShortBusId(g.BusId))).ToList();
        var drm = selected.Select(g => (Gpu: g, Nodes: nodes.DrmNodes(g.BusId))).ToList();
        var edits = new ContainerEdits { DeviceNodes = new(), Hooks = new(), Mounts = new() };
        // As the original's glob of /dev/dri/card* then /dev/dri/renderD*.
        foreach (var host in drm.SelectMany(d => d.Nodes).Distinct().OrderBy(n => Path.GetFileName(n).StartsWith("render", StringComparison.Ordinal)).ThenBy(n => n, StringComparer.Ordinal))
        {
            edits.DeviceNodes.Add(EditsFactory.Node(inv.Roots.DevToContainerPath(host), host));
            if (additionalGids && EditsFactory.AdditionalGid(host) is { } gid && !(edits.AdditionalGids ??= new()).Contains(gid)) edits.AdditionalGids.Add(gid);
        }
        if (hooks.CreateSymlinks(drm.SelectMany(d => nodes.DrmByPathLinks(d.Gpu.BusId, d.Nodes))) is { } byPath) edits.Hooks.Add(byPath);
        CommonEditsBuilder.AddGraphics(edits, inv.Graphics, inv.Roots, hooks);
        return edits;
    }
}

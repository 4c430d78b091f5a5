using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Devices;

/// <summary>
/// A family of devices that are not GPUs and go in only when its variable is "enabled" (toolkit.md §3.1, §4.4):
/// NVIDIA_GDS, NVIDIA_MOFED, NVIDIA_GDRCOPY, NVIDIA_NVSWITCH. Each is only device nodes found under the device root,
/// plus the host files some need (GDS: /run/udev, /etc/cufile.json); the driver is never discovered for them. A
/// family asked for that has no node on this host is an error, as an empty CDI device is.
/// </summary>
internal sealed class GatedFamily(string name, string variable, string pattern, Func<DeviceNodeLocator, List<string>> find, string[]? hostFiles = null) : DeviceKind
{
    public override string Name => name;
    public string Variable => variable;
    public override bool InCsvMode => true;

    public override IReadOnlyList<string> Requested(RequestSource source) =>
        source.Facts.Get(variable) == "enabled" ? ["all"] : [];

    public override ContainerEdits Edits(IReadOnlyList<string> ids, DeviceNodeLocator nodes)
    {
        var found = find(nodes);
        if (found.Count == 0)
            throw new GantryException($"{variable}=enabled, but no {name} device nodes ({pattern}) exist under {nodes.Roots.DevRoot}");
        var edits = new ContainerEdits
        {
            DeviceNodes = found.Select(h => EditsFactory.Node(nodes.Roots.DevToContainerPath(h), h)).ToList(),
        };
        if (hostFiles is { Length: > 0 })
        {
            var roots = nodes.Roots;
            edits.Mounts = hostFiles.Select(p => (Host: roots.InDriverRoot(p), Container: p))
                .Where(p => Path.Exists(p.Host)).Select(p => EditsFactory.ReadOnly(p.Host, p.Container)).ToList();
        }
        return edits;
    }
}

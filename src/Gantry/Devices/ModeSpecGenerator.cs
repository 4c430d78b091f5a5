using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Devices;

// The cdi generate modes that are not one device per GPU (toolkit.md §4.4):
//   management: one device "all" with every NVIDIA control and GPU node (for DCGM and the like), the driver files;
//   imex: one device per IMEX channel, named by its number; no common edits;
//   gds, mofed, gdrcopy, nvswitch: one device "all" with the family's nodes (DeviceKinds); no common edits.
internal static class ModeSpecGenerator
{
    /// <summary>Basename prefixes the management device leaves out: they belong to the gated families.</summary>
    static readonly string[] NotManagement = ["nvidia-fs", "nvidia-nvswitch", "nvidia-nvlink"];

    public static Spec Management(DriverInventory inv, HookFactory hooks, string vendor, string cls, IReadOnlyList<string> ids, bool additionalGids)
    {
        foreach (var id in ids)
            if (id != "all") throw new GantryException($"unknown device id '{id}': management mode has a single device, all");
        var nodes = new DeviceNodeLocator(inv.Roots, inv.AcceptsPlainDeviceFiles);
        var found = nodes.Glob("/dev", "nvidia*")
            .Concat(nodes.Glob("/dev/nvidia-caps", "nvidia-cap*"))
            .Concat(nodes.Existing(["/dev/nvidia-modeset", "/dev/nvidia-uvm-tools", "/dev/nvidia-uvm", "/dev/nvidiactl"]))
            .Concat(nodes.Glob(DeviceNodeLocator.ImexChannelDirectory, "channel*"))
            .Where(h => !NotManagement.Any(p => Path.GetFileName(h).StartsWith(p, StringComparison.Ordinal)))
            .Distinct(StringComparer.Ordinal).ToList();
        if (found.Count == 0) throw new GantryException($"no NVIDIA device nodes found under {inv.Roots.DevRoot}/dev");
        var device = new ContainerEdits { DeviceNodes = new() };
        foreach (var host in found)
        {
            device.DeviceNodes.Add(EditsFactory.Node(inv.Roots.DevToContainerPath(host), host));
            if (additionalGids && EditsFactory.AdditionalGid(host) is { } gid) (device.AdditionalGids ??= new()).Add(gid);
        }
        if (hooks.Chmod(device.DeviceNodes.Select(n => n.Path)) is { } chmod) device.Hooks = [chmod];
        var common = CommonEditsBuilder.DriverFiles(inv, hooks);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var spec = new Spec { Kind = $"{vendor}/{cls}", Devices = [new Device { Name = "all", ContainerEdits = device }], ContainerEdits = common };
        return SpecAssembly.Assemble(spec, addAllDevice: false);
    }

    /// <summary>imex: a device per channel ("all" is every channel node under the device root).</summary>
    public static Spec Imex(DeviceNodeLocator nodes, string vendor, string cls, IReadOnlyList<string> ids, bool noAllDevice)
    {
        var channels = new List<string>();
        foreach (var id in ids)
        {
            if (id == "all")
                channels.AddRange(nodes.Glob(DeviceNodeLocator.ImexChannelDirectory, "channel*").Select(h => Path.GetFileName(h)["channel".Length..]));
            else channels.Add(id.StartsWith("channel", StringComparison.Ordinal) ? id["channel".Length..] : id);
        }
        var devices = channels.Distinct(StringComparer.Ordinal)
            .Select(c => new Device { Name = c, ContainerEdits = DeviceKinds.ImexChannel.Edits([c], nodes) }).ToList();
        if (devices.Count == 0) throw new GantryException($"no IMEX channels found under {nodes.Roots.InDevRoot(DeviceNodeLocator.ImexChannelDirectory)}");
        return Finish(vendor, cls, devices, addAll: !noAllDevice);
    }

    /// <summary>gds, mofed, gdrcopy, nvswitch: one device "all" with the family's nodes (and GDS's host files).</summary>
    public static Spec Gated(GatedFamily family, DeviceNodeLocator nodes, string vendor, string cls, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
            if (id != "all") throw new GantryException($"unknown device id '{id}': {family.Name} mode has a single device, all");
        var device = new Device { Name = "all", ContainerEdits = family.Edits(["all"], nodes) };
        return Finish(vendor, cls, [device], addAll: false);
    }

    static Spec Finish(string vendor, string cls, List<Device> devices, bool addAll)
    {
        var spec = new Spec { Kind = $"{vendor}/{cls}", Devices = devices, ContainerEdits = new ContainerEdits { Env = ["NVIDIA_VISIBLE_DEVICES=void"] } };
        return SpecAssembly.Assemble(spec, addAllDevice: addAll);
    }
}

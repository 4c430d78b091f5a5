using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

// Devices that are not GPUs and go in only on request (toolkit.md §3.1, §4.4): the families switched on by
// NVIDIA_GDS / NVIDIA_MOFED / NVIDIA_GDRCOPY / NVIDIA_NVSWITCH = "enabled", and IMEX channels by id. Each is only
// device nodes found under the device root (GDS also brings /run/udev and /etc/cufile.json); no discovery of the
// driver is needed. A family asked for that has no node on this host is an error, as an empty CDI device is.
internal static class GatedDevices
{
    public static readonly (string Variable, string Mode)[] Variables =
        [("NVIDIA_GDS", "gds"), ("NVIDIA_MOFED", "mofed"), ("NVIDIA_GDRCOPY", "gdrcopy"), ("NVIDIA_NVSWITCH", "nvswitch")];

    public const string ImexChannelDir = "/dev/nvidia-caps-imex-channels";
    public const int MaxImexChannel = (1 << 20) - 1;

    /// <summary>The edits of one family ("gds", "mofed", "gdrcopy", "nvswitch").</summary>
    public static ContainerEdits For(string mode, DeviceNodeLocator nodes)
    {
        var found = mode switch
        {
            "gds" => nodes.Glob("/dev", "nvidia-fs*"),
            "mofed" => [.. nodes.Glob("/dev/infiniband", "uverbs*"), .. nodes.Existing(["/dev/infiniband/rdma_cm"])],
            "gdrcopy" => nodes.Existing(["/dev/gdrdrv"]),
            "nvswitch" => [.. nodes.Existing(["/dev/nvidia-nvswitchctl"]),
                .. nodes.Glob("/dev", "nvidia-nvswitch*").Where(p => !p.EndsWith("/nvidia-nvswitchctl", StringComparison.Ordinal))],
            _ => throw new GantryException($"unknown gated device mode '{mode}'"),
        };
        if (found.Count == 0)
            throw new GantryException($"{Variable(mode)}=enabled, but no {mode} device nodes ({Pattern(mode)}) exist under {nodes.Roots.DevRoot}");
        var edits = new ContainerEdits
        {
            DeviceNodes = found.Select(h => EditsFactory.Node(nodes.Roots.DevToContainerPath(h), h)).ToList(),
        };
        if (mode == "gds")
        {
            var roots = nodes.Roots;
            edits.Mounts = new[] { "/run/udev", "/etc/cufile.json" }.Select(p => (Host: roots.InDriverRoot(p), Container: p))
                .Where(p => Path.Exists(p.Host)).Select(p => EditsFactory.ReadOnly(p.Host, p.Container)).ToList();
        }
        return edits;
    }

    /// <summary>IMEX channel device nodes; ids are channel numbers ("3" or "channel3"), each node must exist.</summary>
    public static ContainerEdits Imex(IReadOnlyList<string> ids, DeviceNodeLocator nodes)
    {
        var edits = new ContainerEdits { DeviceNodes = new() };
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var number = id.StartsWith("channel", StringComparison.Ordinal) ? id["channel".Length..] : id;
            if (!int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n > MaxImexChannel)
                throw new GantryException($"invalid IMEX channel '{id}': use a channel number from 0 to {MaxImexChannel} (or channelN)");
            var path = $"{ImexChannelDir}/channel{n}";
            var host = nodes.Find(path)
                       ?? throw new GantryException($"IMEX channel {n} requested, but {nodes.Roots.InDevRoot(path)} is not a device node (create it with nvidia-imex or nvidia-modprobe)");
            edits.DeviceNodes.Add(EditsFactory.Node(path, host));
        }
        return edits;
    }

    static string Variable(string mode) => Variables.First(v => v.Mode == mode).Variable;

    static string Pattern(string mode) => mode switch
    {
        "gds" => "/dev/nvidia-fs*", "mofed" => "/dev/infiniband/uverbs*, /dev/infiniband/rdma_cm",
        "gdrcopy" => "/dev/gdrdrv", _ => "/dev/nvidia-nvswitchctl, /dev/nvidia-nvswitch*",
    };
}

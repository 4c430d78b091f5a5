using System.Globalization;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Edits;
using Gantry.Requests;

namespace Gantry.Devices;

/// <summary>
/// IMEX channels (toolkit.md §3.1): asked for by volume mounts "imex/N" (when accepted), else by NVIDIA_IMEX_CHANNELS
/// where the environment counts ("all" in that form is ignored, as in the original); each channel is the node
/// /dev/nvidia-caps-imex-channels/channelN, which must exist.
/// </summary>
internal sealed class ImexChannelKind : DeviceKind
{
    public const int MaxChannel = (1 << 20) - 1;

    public override string Name => "imex-channel";
    public override string? VolumeMountPrefix => "imex/";

    public override IReadOnlyList<string> Requested(RequestSource source)
    {
        if (source.Options.IgnoreImexChannelRequests) return [];
        var fromMounts = source.VolumeMounts.Where(r => r.StartsWith(VolumeMountPrefix!, StringComparison.Ordinal))
            .Select(r => r[VolumeMountPrefix!.Length..]).Distinct(StringComparer.Ordinal).ToList();
        if (fromMounts.Count > 0) return fromMounts;
        if (!source.EnvHonoured) return [];
        var parsed = VisibleDevices.Parse(source.Facts.Get("NVIDIA_IMEX_CHANNELS"));
        return parsed.Kind == RequestKind.List ? parsed.Ids : [];
    }

    /// <summary>Ids are channel numbers ("3" or "channel3").</summary>
    public override ContainerEdits Edits(IReadOnlyList<string> ids, DeviceNodeLocator nodes)
    {
        var edits = new ContainerEdits { DeviceNodes = new() };
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var number = id.StartsWith("channel", StringComparison.Ordinal) ? id["channel".Length..] : id;
            if (!TryParseChannel(number, out var n))
                throw new GantryException($"invalid IMEX channel '{id}': use a channel number from 0 to {MaxChannel} (or channelN)");
            var path = NodePath(n);
            var host = nodes.Find(path)
                       ?? throw new GantryException($"IMEX channel {n} requested, but {nodes.Roots.InDevRoot(path)} is not a device node (create it with nvidia-imex or nvidia-modprobe)");
            edits.DeviceNodes.Add(EditsFactory.Node(path, host));
        }
        return edits;
    }

    /// <summary>A channel number: decimal digits only, at most <see cref="MaxChannel"/>.</summary>
    public static bool TryParseChannel(string digits, out uint channel) =>
        uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out channel) && channel <= MaxChannel;

    /// <summary>The container path of a channel's node.</summary>
    public static string NodePath(uint channel) => $"{DeviceNodeLocator.ImexChannelDirectory}/channel{channel}";
}

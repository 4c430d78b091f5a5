using Gantry.Discovery;

namespace Gantry.Requests;

/// <summary>A capability list naming something the hook cannot grant; the message names both sides.</summary>
internal sealed class UnsupportedCapabilityException(string message) : Exception(message);

// NVIDIA_DRIVER_CAPABILITIES as the legacy hook reads it (toolkit.md §3.1): unset or empty means utility,compute;
// unset in a legacy CUDA image means every supported capability; "all" means every supported one; a name outside
// the supported set is an error. Only the hook and nvidia-container-cli use it: CDI modes inject everything.
internal static class DriverCapabilityRequest
{
    public const string Variable = "NVIDIA_DRIVER_CAPABILITIES";
    public const DriverCapability Default = DriverCapability.Utility | DriverCapability.Compute;

    // Sorted by name, the order the original passes them to nvidia-container-cli.
    static readonly DriverCapability[] ByName =
    [
        DriverCapability.Compat32, DriverCapability.Compute, DriverCapability.Display, DriverCapability.Graphics,
        DriverCapability.Ngx, DriverCapability.Utility, DriverCapability.Video,
    ];

    /// <summary>Parses config's supported-driver-capabilities: "all" or a subset of the seven names.</summary>
    public static DriverCapability ParseSupported(string value)
    {
        var (caps, unknown, all) = Parse(value);
        if (all) return DriverCapability.All;
        if (unknown.Count > 0)
            throw new UnsupportedCapabilityException(
                $"invalid value for config option 'supported-driver-capabilities': {value} (supported: {Join(DriverCapability.All)})");
        return caps;
    }

    /// <summary>The capabilities the container gets, given its env and the supported set.</summary>
    public static DriverCapability Resolve(ContainerFacts container, DriverCapability supported)
    {
        var value = container.Get(Variable);
        if (value is null && container.IsLegacyCudaImage) return supported;
        if (string.IsNullOrEmpty(value)) return supported & Default;
        var (caps, unknown, all) = Parse(value);
        if (all) return supported;
        var unsupported = unknown.Concat(ByName.Where(c => caps.HasFlag(c) && !supported.HasFlag(c)).Select(DriverCapabilities.Name)).ToList();
        if (unsupported.Count > 0)
            throw new UnsupportedCapabilityException(
                $"unsupported capabilities found in '{value}': {string.Join(",", unsupported)} (allowed '{Join(supported)}')");
        return caps;
    }

    /// <summary>The names in sorted order, comma-joined.</summary>
    public static string Join(DriverCapability caps) => string.Join(",", Names(caps));

    public static IEnumerable<string> Names(DriverCapability caps) =>
        ByName.Where(c => caps.HasFlag(c)).Select(DriverCapabilities.Name);

    static (DriverCapability Caps, List<string> Unknown, bool All) Parse(string value)
    {
        var caps = DriverCapability.None;
        var unknown = new List<string>();
        var all = false;
        foreach (var item in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (item == "all") { all = true; continue; }
            var c = ByName.FirstOrDefault(c => DriverCapabilities.Name(c) == item);
            if (c == DriverCapability.None) { if (!unknown.Contains(item)) unknown.Add(item); }
            else caps |= c;
        }
        return (caps, unknown, all);
    }
}

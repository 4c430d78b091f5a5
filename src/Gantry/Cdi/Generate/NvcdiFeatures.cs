using Gantry.Common;

namespace Gantry.Cdi.Generate;

// The original's nvcdi feature flags (cdi generate --feature-flag, and modes.jit-cdi.nvcdi-feature-flags for the
// runtime's just-in-time specs). Each known flag either changes what Gantry generates as it changes the original's
// output, or is refused; an unknown flag is a warning that lists the known ones (the original drops it silently).
internal sealed record NvcdiFeatures
{
    public const string ExplicitDriverLibraries = "enable-explicit-driver-libraries";
    public const string DisableNvsandboxutils = "disable-nvsandboxutils";
    public const string CoherentAnnotations = "enable-coherent-annotations";
    public const string DisableMultipleCsvDevices = "disable-multiple-csv-devices";
    public const string NoAdditionalGids = "no-additional-gids-for-device-nodes";
    public const string DisableIpcDiscoverer = "disable-ipc-discoverer";

    public static readonly string[] Known =
        [ExplicitDriverLibraries, DisableNvsandboxutils, CoherentAnnotations, DisableMultipleCsvDevices, NoAdditionalGids, DisableIpcDiscoverer];

    /// <summary>Also mount the GLVND, OpenCL and libnvidia-api libraries the original lists by name.</summary>
    public bool WithExplicitDriverLibraries { get; init; }
    /// <summary>Leave the persistenced / fabric manager sockets out.</summary>
    public bool WithoutIpcSockets { get; init; }
    public bool WithoutAdditionalGids { get; init; }
    /// <summary>cdi generate also writes the coherent and non-coherent GPUs' specs (<see cref="CoherenceSplit"/>).</summary>
    public bool SplitByCoherence { get; init; }

    public static NvcdiFeatures None { get; } = new();

    /// <param name="source">How the user gave them, for the messages ("--feature-flag", a config key).</param>
    public static NvcdiFeatures Parse(IEnumerable<string> flags, string source, Log log)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in flags)
        {
            var name = raw.Trim();
            if (name.Length == 0) continue;
            if (name == "disable-nvsandbox-utils") name = DisableNvsandboxutils; // the original accepts this spelling too
            if (!Known.Contains(name))
            {
                log.Warning($"Ignoring unknown feature flag '{name}' in {source}: the feature flags are {string.Join(", ", Known)}");
                continue;
            }
            set.Add(name);
        }
        // The original reads device resources through nvsandboxutils when it can; Gantry never does, so turning it off
        // gives the output the original gives with the flag.
        if (set.Contains(DisableNvsandboxutils))
            log.Info($"Feature flag {DisableNvsandboxutils}: Gantry never uses libnvidia-sandboxutils (it reads NVML and the device nodes), so there is nothing to turn off");
        // The original splits a Tegra host with an integrated and a discrete GPU into two CSV devices; Gantry always
        // writes the single device that this flag asks for.
        if (set.Contains(DisableMultipleCsvDevices))
            log.Info($"Feature flag {DisableMultipleCsvDevices}: Gantry always writes a single CSV device, as this flag asks");
        return new NvcdiFeatures
        {
            WithExplicitDriverLibraries = set.Contains(ExplicitDriverLibraries),
            WithoutIpcSockets = set.Contains(DisableIpcDiscoverer),
            WithoutAdditionalGids = set.Contains(NoAdditionalGids),
            SplitByCoherence = set.Contains(CoherentAnnotations),
        };
    }
}

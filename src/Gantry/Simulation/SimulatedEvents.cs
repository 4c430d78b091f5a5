using Gantry.Common;

namespace Gantry.Simulation;

// Health events for the NVML stand-in of a simulated host: lines appended to gantry-nvml-events.txt beside its
// facts file, which the stand-in's nvmlEventSetWait_v2 hands to whoever waits (the device plugin's health
// checker), as a driver would. `lost` also makes NVML calls on the GPU answer GPU_IS_LOST until `back`.
internal static class SimulatedEvents
{
    public const string FileName = "gantry-nvml-events.txt";

    /// <summary>The events file of the simulated host at <paramref name="hostDir"/> (its driver root or the directory above it).</summary>
    public static string PathIn(string hostDir)
    {
        foreach (var root in new[] { hostDir, Path.Combine(hostDir, "host") }.Concat(Prefixed(hostDir)))
        {
            var facts = Path.Combine(root, "usr/lib/x86_64-linux-gnu", NvmlFacts.FileName);
            if (File.Exists(facts)) return Path.Combine(Path.GetDirectoryName(facts)!, FileName);
        }
        throw new GantryException($"{hostDir} is not a simulated host with the NVML stand-in (no {NvmlFacts.FileName} found)");
    }

    static IEnumerable<string> Prefixed(string hostDir) => new[] { "run/nvidia/driver" }.Select(p => Path.Combine(hostDir, p));

    /// <summary>Checks and appends one event: "xid GPU CODE [GI CI]", "ecc GPU double|single", "lost GPU", "back GPU".</summary>
    public static void Inject(string hostDir, string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ok = parts switch
        {
            ["xid", var g, var x] => Num(g) && Num(x),
            ["xid", var g, var x, var gi, var ci] => Num(g) && Num(x) && Num(gi) && Num(ci),
            ["ecc", var g, "double" or "single"] => Num(g),
            ["lost" or "back", var g] => Num(g),
            _ => false,
        };
        if (!ok) throw new UsageException($"--event takes 'xid GPU CODE [GI CI]', 'ecc GPU double|single', 'lost GPU' or 'back GPU', got '{line}'");
        File.AppendAllText(PathIn(hostDir), string.Join(' ', parts) + "\n");
    }

    static bool Num(string s) => uint.TryParse(s, out _);
}

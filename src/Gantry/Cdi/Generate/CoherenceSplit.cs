using Gantry.Common;
using Gantry.Discovery;

namespace Gantry.Cdi.Generate;

// --feature-flag=enable-coherent-annotations. The original annotates each full GPU's devices
// gpu.nvidia.com/coherent=true|false (true when NVML reports ATS addressing), writes a spec per value beside the
// main one (class "<class>.coherent" / "<class>.noncoherent", file "<name>.coherent.<ext>"), and strips the
// annotation again while splitting: every spec it writes, the main one included, comes out without it. What a
// user sees is the split, so that is what Gantry produces.
internal static class CoherenceSplit
{
    public const string CoherentInfix = ".coherent", NoncoherentInfix = ".noncoherent";

    /// <summary>True for ATS addressing, false for any other mode or none reported; null (with a warning) when NVML failed.</summary>
    public static bool? IsCoherent(GpuInfo gpu, IEnumerable<string> names, Log log)
    {
        if (gpu.AddressingMode == GpuInfo.AddressingModeUnreadable)
        {
            log.Warning($"Ignoring error getting device annotations for device(s) [{string.Join(" ", names)}]: " +
                        "failed to check device coherence: error getting addressing mode");
            return null;
        }
        return gpu.AddressingMode == GpuInfo.AddressingModeAts;
    }

    /// <summary>"nvidia.yaml" → "nvidia.coherent.yaml"; a name without extension gets the infix at its end; stdout stays stdout.</summary>
    public static string? WithInfix(string? output, string infix)
    {
        if (string.IsNullOrEmpty(output) || output == "-" || infix.Length == 0) return output;
        var ext = Path.GetExtension(Path.GetFileName(output));
        return output[..^ext.Length] + infix + ext;
    }
}

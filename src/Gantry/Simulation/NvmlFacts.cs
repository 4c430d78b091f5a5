using Gantry.Discovery;

namespace Gantry.Simulation;

// Placeholder until the NVML stand-in work lands; replaced by that branch.
internal static class NvmlFacts
{
    public static void Write(string libraryDirectory, NvmlSnapshot facts) => throw new NotImplementedException();
}

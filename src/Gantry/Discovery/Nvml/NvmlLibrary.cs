namespace Gantry.Discovery.Nvml;

// Placeholder until the NVML binding lands; replaced by that branch.
internal static class NvmlLibrary
{
    public static bool TryQuery(string libraryPath, out NvmlSnapshot? snapshot, out string? error) => throw new NotImplementedException();
}

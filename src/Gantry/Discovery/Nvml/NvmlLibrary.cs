using System.Diagnostics.CodeAnalysis;

namespace Gantry.Discovery.Nvml;

/// <summary>
/// Reads an <see cref="NvmlSnapshot"/> from an NVML library given by path: the real libnvidia-ml.so.1 in a
/// driver root, or Gantry's stand-in in a simulated one. Every failure (no file, not loadable, not NVML, an
/// NVML error) comes back as an error string, never as an exception.
/// </summary>
internal static class NvmlLibrary
{
    public static bool TryQuery(string libraryPath,
        [NotNullWhen(true)] out NvmlSnapshot? snapshot, [NotNullWhen(false)] out string? error)
    {
        snapshot = null;
        if (!NvmlSession.TryOpen(libraryPath, out var session, out error)) return false;
        using (session) snapshot = session.Snapshot;
        return true;
    }
}

/// <summary>An NVML call that failed; only ever thrown and caught inside the binding (and its daemons).</summary>
internal sealed class NvmlCallException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

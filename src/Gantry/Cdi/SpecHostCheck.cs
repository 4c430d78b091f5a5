using Gantry.Edits;
using Gantry.Host;

namespace Gantry.Cdi;

/// <summary>
/// Whether a CDI spec still describes this host: every host file its edits name (bind-mount sources, device
/// nodes, hook programs) exists, and the driver its libraries belong to (libcuda.so.VERSION, libnvidia-ml.so.VERSION)
/// is the one running. A driver upgrade or a MIG change leaves specs that fail later with errors naming neither
/// the spec nor the cause; this says both, and how to fix it.
/// </summary>
internal static class SpecHostCheck
{
    /// <summary>The one-line problem with <paramref name="edits"/> of the spec at <paramref name="specPath"/>, or null when it matches the host.</summary>
    /// <param name="runningDriver">The loaded driver's version (/proc/driver/nvidia/version), null when unknown.</param>
    /// <param name="exists">Whether a host path exists (a link counts, followed or not); lstat by default.</param>
    public static string? Problem(string specPath, IEnumerable<ContainerEdits> edits, string? runningDriver, Func<string, bool>? exists = null) =>
        Cause(edits, runningDriver, exists) is { } cause
            ? $"CDI spec {specPath} no longer matches this host: {cause}; regenerate it with " +
              $"'nvidia-ctk cdi refresh --output={specPath}' (or 'nvidia-ctk cdi generate --output={specPath}')"
            : null;

    /// <summary>Why the edits no longer describe this host ("X does not exist; it was made for driver A and driver B is running"), or null.</summary>
    public static string? Cause(IEnumerable<ContainerEdits> edits, string? runningDriver, Func<string, bool>? exists = null)
    {
        exists ??= path => FileStatus.TryLstat(path, out _);
        var all = edits.ToList();
        var specDriver = DriverOf(all);
        var missing = HostPaths(all).Distinct(StringComparer.Ordinal).Where(p => !exists(p)).ToList();
        var driverDiffers = specDriver is not null && runningDriver is not null && specDriver != runningDriver;
        if (missing.Count == 0 && !driverDiffers) return null;
        var parts = new List<string>();
        if (missing.Count > 0)
            parts.Add($"{missing[0]} does not exist" + (missing.Count > 1 ? $" (nor {missing.Count - 1} more of the files it names)" : ""));
        if (driverDiffers) parts.Add($"it was made for driver {specDriver} and driver {runningDriver} is running");
        return string.Join("; ", parts);
    }

    /// <summary>The driver version of the spec's libraries, from the first libcuda.so.X or libnvidia-ml.so.X it mounts.</summary>
    public static string? DriverOf(IEnumerable<ContainerEdits> edits)
    {
        foreach (var m in edits.SelectMany(e => e.Mounts ?? []))
        {
            var name = Path.GetFileName(m.HostPath);
            foreach (var prefix in new[] { "libcuda.so.", "libnvidia-ml.so." })
                if (name.StartsWith(prefix, StringComparison.Ordinal) && name[prefix.Length..] is { } v && v.Contains('.') && char.IsAsciiDigit(v[0]))
                    return v;
        }
        return null;
    }

    static IEnumerable<string> HostPaths(IEnumerable<ContainerEdits> edits)
    {
        foreach (var e in edits)
        {
            foreach (var m in e.Mounts ?? [])
                if (IsBind(m) && m.HostPath.StartsWith('/')) yield return m.HostPath;
            foreach (var d in e.DeviceNodes ?? [])
                if ((d.HostPath ?? d.Path) is { } p && p.StartsWith('/')) yield return p;
            foreach (var h in e.Hooks ?? [])
                if (h.Path.StartsWith('/')) yield return h.Path;
        }
    }

    // A mount with another type (tmpfs, proc, ...) names no host file.
    static bool IsBind(Mount m) =>
        m.Type is null or "" or "bind" || (m.Options ?? []).Any(o => o is "bind" or "rbind");
}

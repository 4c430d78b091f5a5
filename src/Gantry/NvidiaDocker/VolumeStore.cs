using Gantry.Common;

namespace Gantry.NvidiaDocker;

// The volumes on disk: <volumes dir>/nvidia_driver/<driver version>/{bin,lib,lib64}. A version directory is
// the volume; it outlives the plugin, so a restarted plugin serves the volumes running containers still use.
internal sealed class VolumeStore(string volumesDir, Func<VolumeFiles> files, VolumeBuilder builder, Log log)
{
    readonly Lock _lock = new();

    public string VolumeDir { get; } = Path.Combine(Path.GetFullPath(volumesDir), DriverVolume.Name);

    public string PathOf(string version) => Path.Combine(VolumeDir, version);

    public bool Exists(string version) => Directory.Exists(PathOf(version));

    /// <summary>Versions present on disk, by name; staging directories (hidden) are not volumes.</summary>
    public IReadOnlyList<string> Versions()
    {
        if (!Directory.Exists(VolumeDir)) return [];
        return Directory.EnumerateDirectories(VolumeDir).Select(d => Path.GetFileName(d))
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Builds the version's volume unless it is already there.</summary>
    public void Create(string version)
    {
        lock (_lock)
        {
            if (Exists(version)) return;
            log.Info($"Creating volume {DriverVolume.VolumeName(version)} at {PathOf(version)}");
            builder.Build(PathOf(version), files());
        }
    }

    /// <summary>
    /// Deletes staging directories a killed plugin left half-built (hidden ".&lt;version&gt;.&lt;random&gt;"); called at start,
    /// before any request, so no builder of this process is using one. Returns how many were removed.
    /// </summary>
    public int RemoveAbandonedStaging()
    {
        if (!Directory.Exists(VolumeDir)) return 0;
        var removed = 0;
        lock (_lock)
            foreach (var dir in Directory.EnumerateDirectories(VolumeDir).Where(d => Path.GetFileName(d).StartsWith('.')).ToList())
            {
                log.Info($"Removing {dir}, a volume a stopped plugin left half-built");
                Directory.Delete(dir, recursive: true);
                removed++;
            }
        return removed;
    }

    public void Remove(string version)
    {
        lock (_lock)
        {
            var dir = PathOf(version);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

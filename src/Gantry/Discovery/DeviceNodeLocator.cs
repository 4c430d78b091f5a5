using Gantry.Host;

namespace Gantry.Discovery;

// Device nodes under the device root. Only character devices count, except on a simulated host made
// without root, whose "nodes" are plain files (the spec then carries paths but no major/minor).
internal sealed class DeviceNodeLocator(HostRoots roots, bool acceptPlainFiles)
{
    /// <summary>Where the IMEX channel nodes are (channelN).</summary>
    public const string ImexChannelDirectory = "/dev/nvidia-caps-imex-channels";

    public HostRoots Roots => roots;

    /// <summary>A locator for a host; plain files count as nodes only on a simulated host (its marker file).</summary>
    public static DeviceNodeLocator ForHost(HostRoots roots) => new(roots, AcceptsPlainFiles(roots));

    public static bool AcceptsPlainFiles(HostRoots roots) =>
        File.Exists(roots.InDevRoot(HostRoots.SimulatedHostMarker)) ||
        File.Exists(roots.InDriverRoot(HostRoots.SimulatedHostMarker));

    /// <summary>Host path of a container device path when it exists as a device node, else null.</summary>
    public string? Find(string containerPath)
    {
        var host = roots.InDevRoot(containerPath);
        if (!FileStatus.TryLstat(host, out var st)) return null;
        return st.IsCharDevice || (acceptPlainFiles && st.IsRegular) ? host : null;
    }

    public List<string> Existing(IEnumerable<string> containerPaths) =>
        containerPaths.Select(Find).Where(p => p is not null).Select(p => p!).ToList();

    public List<string> Glob(string containerDir, string pattern)
    {
        var dir = roots.InDevRoot(containerDir);
        if (!Directory.Exists(dir)) return new();
        return Directory.EnumerateFileSystemEntries(dir).Where(e => Discovery.Glob.Match(pattern, Path.GetFileName(e)))
            .Order(StringComparer.Ordinal).Select(e => Find(containerDir + "/" + Path.GetFileName(e))).Where(p => p is not null).Select(p => p!).ToList();
    }

    /// <summary>DRM nodes (/dev/dri/cardN, renderDN) of the GPU at a PCI bus id, from sysfs.</summary>
    public List<string> DrmNodes(string nvmlBusId)
    {
        var drm = roots.InSys($"bus/pci/devices/{ProcDriver.ShortBusId(nvmlBusId)}/drm");
        if (!Directory.Exists(drm)) return new();
        return Directory.EnumerateFileSystemEntries(drm).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(n => Find("/dev/dri/" + n)).Where(p => p is not null).Select(p => p!).ToList();
    }

    /// <summary>The /dev/dri/by-path links of a GPU whose targets are among its selected DRM nodes.</summary>
    public List<(string Target, string Link)> DrmByPathLinks(string nvmlBusId, IReadOnlyCollection<string> selectedHostNodes)
    {
        var links = new List<(string, string)>();
        foreach (var kind in new[] { "card", "render" })
        {
            var link = $"/dev/dri/by-path/pci-{ProcDriver.ShortBusId(nvmlBusId)}-{kind}";
            var host = roots.InDevRoot(link);
            var target = new FileInfo(host).LinkTarget;
            if (target is null) continue;
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(host)!, target));
            if (selectedHostNodes.Contains(resolved)) links.Add((target, link));
        }
        return links;
    }
}

using Gantry.Discovery;

namespace Gantry.ContainerCli;

/// <summary>--cuda-compat-mode: mount the image's forward-compat libraries, hand their directory to ldconfig, or ignore them.</summary>
internal enum CudaCompatMode { Mount, Ldconfig, Disabled }

// Which of the image's /usr/local/cuda/compat libraries may be used with this driver. The decision compares the
// library's major version (the digits after ".so.") with the same number of leading characters of the driver
// version, as the original does: mount keeps every major but the driver's own (older ones too, the legacy rule),
// ldconfig keeps only newer ones, and they must share one directory, which is handed to ldconfig.
internal static class CudaCompatLibs
{
    public static CudaCompatMode ParseMode(string value) => value switch
    {
        "mount" => CudaCompatMode.Mount,
        "ldconfig" => CudaCompatMode.Ldconfig,
        "disabled" => CudaCompatMode.Disabled,
        _ => throw new ContainerCliException($"container error: invalid option: cuda-compat-mode={value} " +
                                             "(expected mount, ldconfig or disabled; the toolkit's 'hook' mode passes disabled)"),
    };

    /// <summary>The libraries to bind over the container's library directory (mount mode).</summary>
    public static List<string> ToMount(IEnumerable<string> compatLibs, string nvrmVersion) =>
        ComputeLibraries(compatLibs).Where(l => Compare(nvrmVersion, l) is { } c && c != 0).ToList();

    /// <summary>The single directory ldconfig should scan (ldconfig mode); null when no library is newer than the driver.</summary>
    public static string? LdconfigDirectory(IEnumerable<string> compatLibs, string nvrmVersion)
    {
        var newer = ComputeLibraries(compatLibs).Where(l => Compare(nvrmVersion, l) is < 0).ToList();
        var dirs = newer.Select(l => l[..l.LastIndexOf('/')]).Distinct(StringComparer.Ordinal).ToList();
        if (dirs.Count > 1)
            throw new ContainerCliException($"container error: the CUDA compat libraries are in more than one directory ({string.Join(", ", dirs)}); " +
                                            "cuda-compat-mode=ldconfig needs them in one");
        return dirs.Count == 0 ? null : dirs[0];
    }

    // Only libraries that the compute capability would mount from the driver are candidates.
    static IEnumerable<string> ComputeLibraries(IEnumerable<string> libs)
    {
        var prefixes = DriverCapabilities.Libraries.Where(l => l.Capability == DriverCapability.Compute).SelectMany(l => l.Prefixes).ToList();
        return libs.Where(l => prefixes.Exists(p => Path.GetFileName(l).StartsWith(p, StringComparison.Ordinal)));
    }

    /// <summary>strncmp(driver, major, len(major)) sign; null when the name has no ".so.&lt;digits&gt;".</summary>
    internal static int? Compare(string nvrmVersion, string library)
    {
        var name = Path.GetFileName(library);
        var at = name.IndexOf(".so.", StringComparison.Ordinal);
        if (at < 0) return null;
        var digits = new string(name[(at + 4)..].TakeWhile(char.IsAsciiDigit).ToArray());
        if (digits.Length == 0) return null;
        var head = nvrmVersion.Length >= digits.Length ? nvrmVersion[..digits.Length] : nvrmVersion;
        return Math.Sign(string.CompareOrdinal(head, digits));
    }
}

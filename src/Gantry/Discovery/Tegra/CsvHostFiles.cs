using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery.Tegra;

/// <summary>A symlink of a sym entry's chain: its path (as the container sees it) and what it points to.</summary>
internal sealed record CsvSymlink(string Path, string Target);

/// <summary>
/// What the CSV mount specs name that is on this host, every path as the container sees it (relative to the roots):
/// device nodes (globs expanded), libraries (symlinks resolved inside the driver root), directories, and for each
/// sym entry the links of its chain and its final file. Missing entries are left out with a warning, as the
/// original's Jetson support does ("missing device …", "missing library …").
/// </summary>
internal sealed record CsvHostFiles(IReadOnlyList<string> Devices, IReadOnlyList<string> Libraries, IReadOnlyList<string> Directories,
    IReadOnlyList<CsvSymlink> Symlinks, IReadOnlyList<string> SymlinkTargets)
{
    public const string DefaultDirectory = "/etc/nvidia-container-runtime/host-files-for-container.d";

    /// <summary>Every file mounted at its own path: libraries, then the targets of the sym entries not already among them.</summary>
    public IEnumerable<string> Files => Libraries.Concat(SymlinkTargets.Where(t => !Libraries.Contains(t)));

    /// <param name="ignoreSym">sym entries to leave out (cdi generate's --csv.ignore-pattern)</param>
    public static CsvHostFiles Locate(HostRoots roots, IReadOnlyList<CsvEntry> entries, Log log, Func<string, bool>? ignoreSym = null)
    {
        var nodes = DeviceNodeLocator.ForHost(roots);
        var devices = new List<string>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Dev))
        {
            var name = Path.GetFileName(e.Path);
            var found = name.IndexOfAny(['*', '?', '[']) >= 0 ? nodes.Glob(Path.GetDirectoryName(e.Path)!, name) : nodes.Existing([e.Path]);
            if (found.Count == 0) log.Warning($"missing device {e.Path}");
            foreach (var host in found)
                if (roots.DevToContainerPath(host) is var path && !devices.Contains(path)) devices.Add(path);
        }

        var libraries = new List<string>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Lib))
        {
            if (DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(e.Path)) is { } real && File.Exists(real))
            {
                var path = roots.ToContainerPath(real);
                if (!libraries.Contains(path)) libraries.Add(path);
            }
            else log.Warning($"missing library {e.Path}");
        }

        var directories = new List<string>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Dir))
        {
            var host = roots.InDriverRoot(e.Path);
            if (Directory.Exists(host)) { if (roots.ToContainerPath(host) is var path && !directories.Contains(path)) directories.Add(path); }
            else log.Warning($"missing directory {e.Path}");
        }

        var links = new List<CsvSymlink>();
        var targets = new List<string>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Sym && ignoreSym?.Invoke(e.Path) != true))
        {
            var chain = new List<string>();
            if (DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(e.Path), chain) is not { } target || chain.Count == 0)
            {
                log.Warning($"missing symlink {e.Path}");
                continue;
            }
            foreach (var link in chain)
                if (new CsvSymlink(roots.ToContainerPath(link), new FileInfo(link).LinkTarget!) is var s && !links.Contains(s)) links.Add(s);
            if (File.Exists(target) && roots.ToContainerPath(target) is var t && !targets.Contains(t)) targets.Add(t);
        }
        return new CsvHostFiles(devices, libraries, directories, links, targets);
    }
}

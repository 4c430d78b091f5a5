using Gantry.Common;
using Gantry.Discovery;
using Gantry.Discovery.Tegra;
using Gantry.Edits;
using Gantry.Host;

namespace Gantry.Cdi.Generate;

internal sealed record CsvGenerateOptions
{
    public string Vendor { get; init; } = "nvidia.com";
    public string Class { get; init; } = "gpu";
    public IReadOnlyList<string> DeviceIds { get; init; } = ["all"];
    public bool NoAllDevice { get; init; }
    /// <summary>"MAJOR.MINOR" from NVML; null when NVML cannot be used (then no enable-cuda-compat hook).</summary>
    public string? HostCudaVersion { get; init; }
    /// <summary>--cuda-compat-container-root for enable-cuda-compat; null leaves the hook's default.</summary>
    public string? CompatContainerRoot { get; init; }
    /// <summary>Globs of sym entries to leave out; "**/NAME" matches a base name anywhere.</summary>
    public IReadOnlyList<string> IgnorePatterns { get; init; } = [];
}

// A Jetson (Tegra) spec from CSV mount specs (toolkit.md §4.4 csv): one device "0" holding every dev entry;
// common edits are the dir mounts, the libraries (symlinks resolved inside the driver root, plus the links a
// driver install makes), each sym entry's final target with a create-symlinks hook that rebuilds its chain,
// /etc/nv_tegra_release, enable-cuda-compat when NVML gave a CUDA version, and update-ldcache last.
internal static class CsvSpecGenerator
{
    public static Spec Generate(HostRoots roots, IReadOnlyList<CsvEntry> entries, HookFactory hooks, CsvGenerateOptions o)
    {
        var devices = new List<Device>();
        foreach (var id in o.DeviceIds.Distinct(StringComparer.Ordinal))
        {
            if (id is "all" or "0") { if (devices.All(d => d.Name != "0")) devices.Add(new Device { Name = "0", ContainerEdits = DeviceEdits(roots, entries) }); }
            else if (id == "none") devices.Add(new Device { Name = "none", ContainerEdits = new ContainerEdits { Env = ["NVCT_EMPTY_DEVICE="] } });
            else throw new GantryException($"unknown device id '{id}': csv mode has a single device, 0 (or all)");
        }
        var common = CommonEdits(roots, entries, hooks, o);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var spec = new Spec { Kind = $"{o.Vendor}/{o.Class}", Devices = devices, ContainerEdits = common };
        return SpecAssembly.Assemble(spec, addAllDevice: !o.NoAllDevice && !o.DeviceIds.Contains("none"));
    }

    static ContainerEdits DeviceEdits(HostRoots roots, IReadOnlyList<CsvEntry> entries)
    {
        var nodes = DeviceNodeLocator.ForHost(roots);
        var edits = new ContainerEdits { DeviceNodes = new() };
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Dev))
        {
            var name = Path.GetFileName(e.Path);
            var found = name.IndexOfAny(['*', '?', '[']) >= 0
                ? nodes.Glob(Path.GetDirectoryName(e.Path)!, name)
                : nodes.Existing([e.Path]);
            foreach (var host in found)
            {
                var path = roots.DevToContainerPath(host);
                if (edits.DeviceNodes.All(n => n.Path != path)) edits.DeviceNodes.Add(EditsFactory.Node(path, host));
            }
        }
        return edits;
    }

    static ContainerEdits CommonEdits(HostRoots roots, IReadOnlyList<CsvEntry> entries, HookFactory hooks, CsvGenerateOptions o)
    {
        var edits = new ContainerEdits { Env = new(), Hooks = new(), Mounts = new() };
        void Mount(string host)
        {
            var container = roots.ToContainerPath(host);
            if (edits.Mounts!.All(m => m.ContainerPath != container)) edits.Mounts!.Add(EditsFactory.ReadOnly(host, container));
        }
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Dir))
            if (Directory.Exists(roots.InDriverRoot(e.Path))) Mount(roots.InDriverRoot(e.Path));

        var libraries = new List<string>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Lib))
            if (DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(e.Path)) is { } real && File.Exists(real) && !libraries.Contains(real))
            {
                libraries.Add(real);
                Mount(real);
            }
        Add(edits, hooks.CreateSymlinks(CommonEditsBuilder.LibrarySymlinks(roots, libraries)));

        var chains = new List<(string Target, string Link)>();
        foreach (var e in entries.Where(e => e.Kind == CsvEntryKind.Sym && !Ignored(e.Path, o.IgnorePatterns)))
        {
            var chain = new List<string>();
            if (DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(e.Path), chain) is not { } target) continue;
            foreach (var link in chain) chains.Add((new FileInfo(link).LinkTarget!, roots.ToContainerPath(link)));
            if (File.Exists(target)) { Mount(target); if (!libraries.Contains(target)) libraries.Add(target); }
        }
        Add(edits, hooks.CreateSymlinks(chains));

        if (File.Exists(roots.InDriverRoot(TegraPlatform.ReleaseFile))) Mount(roots.InDriverRoot(TegraPlatform.ReleaseFile));
        if (o.HostCudaVersion is { } cuda)
        {
            var args = new List<string> { $"--host-cuda-version={cuda}" };
            if (o.CompatContainerRoot is { Length: > 0 } compat) args.Add($"--cuda-compat-container-root={compat}");
            Add(edits, hooks.Create("enable-cuda-compat", args));
        }
        var folders = libraries.Where(l => Glob.Match("lib?*.so*", Path.GetFileName(l)))
            .Select(l => Path.GetDirectoryName(roots.ToContainerPath(l))!).Distinct().ToList();
        var ldconfig = hooks.LdconfigPath is { Length: > 0 } l ? new[] { "--ldconfig-path", l } : [];
        if (folders.Count > 0) Add(edits, hooks.Create("update-ldcache", ldconfig.Concat(folders.SelectMany(f => new[] { "--folder", f }))));
        return edits;
    }

    static bool Ignored(string path, IReadOnlyList<string> patterns) =>
        patterns.Any(p => p.StartsWith("**/", StringComparison.Ordinal) ? Glob.Match(p.AsSpan(3), Path.GetFileName(path)) : Glob.Match(p, path));

    static void Add(ContainerEdits edits, Hook? hook)
    {
        if (hook is not null) edits.Hooks!.Add(hook);
    }
}

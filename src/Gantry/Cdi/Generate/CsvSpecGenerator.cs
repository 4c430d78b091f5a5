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

// A Jetson (Tegra) spec from CSV mount specs (toolkit.md §4.4 csv), located by Discovery/Tegra/CsvHostFiles: one device "0" holding every dev entry;
// common edits are the dir mounts, the libraries (symlinks resolved inside the driver root, plus the links a
// driver install makes), each sym entry's final target with a create-symlinks hook that rebuilds its chain,
// /etc/nv_tegra_release, enable-cuda-compat when NVML gave a CUDA version, and update-ldcache last.
internal static class CsvSpecGenerator
{
    public static Spec Generate(HostRoots roots, IReadOnlyList<CsvEntry> entries, HookFactory hooks, CsvGenerateOptions o)
    {
        // The same location of the CSV entries as nvidia-container-cli's on a Jetson; a spec names only what is there.
        var files = CsvHostFiles.Locate(roots, entries, Log.Silent, path => Ignored(path, o.IgnorePatterns));
        var devices = new List<Device>();
        foreach (var id in o.DeviceIds.Distinct(StringComparer.Ordinal))
        {
            if (id is "all" or "0") { if (devices.All(d => d.Name != "0")) devices.Add(new Device { Name = "0", ContainerEdits = DeviceEdits(roots, files) }); }
            else if (id == "none") devices.Add(new Device { Name = "none", ContainerEdits = new ContainerEdits { Env = ["NVCT_EMPTY_DEVICE="] } });
            else throw new GantryException($"unknown device id '{id}': csv mode has a single device, 0 (or all)");
        }
        var common = CommonEdits(roots, files, hooks, o);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var spec = new Spec { Kind = $"{o.Vendor}/{o.Class}", Devices = devices, ContainerEdits = common };
        return SpecAssembly.Assemble(spec, addAllDevice: !o.NoAllDevice && !o.DeviceIds.Contains("none"));
    }

    static ContainerEdits DeviceEdits(HostRoots roots, CsvHostFiles files) =>
        new() { DeviceNodes = files.Devices.Select(path => EditsFactory.Node(path, roots.InDevRoot(path))).ToList() };

    static ContainerEdits CommonEdits(HostRoots roots, CsvHostFiles files, HookFactory hooks, CsvGenerateOptions o)
    {
        var edits = new ContainerEdits { Env = new(), Hooks = new(), Mounts = new() };
        void Mount(string container)
        {
            if (edits.Mounts!.All(m => m.ContainerPath != container)) edits.Mounts!.Add(EditsFactory.ReadOnly(roots.InDriverRoot(container), container));
        }
        foreach (var dir in files.Directories) Mount(dir);
        foreach (var lib in files.Libraries) Mount(lib);
        Add(edits, hooks.CreateSymlinks(CommonEditsBuilder.LibrarySymlinks(roots, files.Libraries.Select(roots.InDriverRoot).ToList())));
        Add(edits, hooks.CreateSymlinks(files.Symlinks.Select(l => (l.Target, l.Path))));
        foreach (var target in files.SymlinkTargets) Mount(target);

        if (File.Exists(roots.InDriverRoot(TegraPlatform.ReleaseFile))) Mount(roots.ToContainerPath(roots.InDriverRoot(TegraPlatform.ReleaseFile)));
        if (o.HostCudaVersion is { } cuda)
        {
            var args = new List<string> { $"--host-cuda-version={cuda}" };
            if (o.CompatContainerRoot is { Length: > 0 } compat) args.Add($"--cuda-compat-container-root={compat}");
            Add(edits, hooks.Create("enable-cuda-compat", args));
        }
        var folders = files.Files.Where(l => Glob.Match("lib?*.so*", Path.GetFileName(l))).Select(l => Path.GetDirectoryName(l)!).Distinct().ToList();
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

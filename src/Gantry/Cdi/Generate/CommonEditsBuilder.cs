using Gantry.Discovery;
using Gantry.Edits;
using Gantry.Elf;

namespace Gantry.Cdi.Generate;

// The edits every GPU container gets, whatever GPUs it asked for: control nodes, graphics files,
// the driver's libraries, binaries, firmware and sockets, and the hooks that make the libraries usable.
internal static class CommonEditsBuilder
{
    public static ContainerEdits Build(DriverInventory inv, HookFactory hooks)
    {
        var roots = inv.Roots;
        var edits = new ContainerEdits { Env = new(), DeviceNodes = new(), Hooks = new(), Mounts = new() };
        foreach (var node in inv.ControlNodes) edits.DeviceNodes.Add(EditsFactory.Node(roots.DevToContainerPath(node), node));

        AddGraphics(edits, inv.Graphics, roots, hooks);
        AddDriverFiles(edits, inv, hooks);
        Add(edits, hooks.Create("update-application-profile"));
        return edits;
    }

    /// <summary>Graphics: EGL platform libraries, X.Org modules, nvidia-xconfig, config files, and their symlinks
    /// (also legacy mode's graphics modifier, Runtime/LegacyGraphics).</summary>
    public static void AddGraphics(ContainerEdits edits, GraphicsFiles g, Host.HostRoots roots, HookFactory hooks)
    {
        edits.Mounts ??= new();
        foreach (var p in g.Libraries.Concat(g.XorgModules).Concat(g.Binaries))
            edits.Mounts.Add(EditsFactory.ReadOnly(p, roots.ToContainerPath(p)));
        foreach (var (host, container) in g.Configs) edits.Mounts.Add(EditsFactory.ReadOnly(host, container));
        if (hooks.CreateSymlinks(g.Symlinks) is { } links) (edits.Hooks ??= new()).Add(links);
    }

    /// <summary>Only the driver's own files and their hooks: the common edits of a management spec.</summary>
    public static ContainerEdits DriverFiles(DriverInventory inv, HookFactory hooks)
    {
        var edits = new ContainerEdits { Env = new(), DeviceNodes = new(), Hooks = new(), Mounts = new() };
        AddDriverFiles(edits, inv, hooks);
        return edits;
    }

    // Libraries and their links, the CUDA compat and ldcache hooks, sockets, firmware and binaries.
    static void AddDriverFiles(ContainerEdits edits, DriverInventory inv, HookFactory hooks)
    {
        var roots = inv.Roots;
        // The 32-bit libraries (jit-cdi with compat32 only) at their host paths too, beside the 64-bit ones.
        var all = inv.Libraries.Concat(inv.Libraries32).ToList();
        foreach (var lib in all) edits.Mounts!.Add(EditsFactory.ReadOnly(lib, roots.ToContainerPath(lib)));
        Add(edits, hooks.CreateSymlinks(LibrarySymlinks(roots, all)));
        if (!inv.Version.Contains('*')) Add(edits, hooks.Create("enable-cuda-compat", $"--host-driver-version={inv.Version}"));
        else Add(edits, hooks.Create("enable-cuda-compat"));
        var folders = all.Where(l => Glob.Match("lib?*.so*", Path.GetFileName(l)))
            .Select(l => Path.GetDirectoryName(roots.ToContainerPath(l))!).Distinct().ToList();
        if (folders.Count > 0)
        {
            var ldconfig = hooks.LdconfigPath is { Length: > 0 } l ? new[] { "--ldconfig-path", l } : [];
            Add(edits, hooks.Create("update-ldcache", ldconfig.Concat(folders.SelectMany(f => new[] { "--folder", f }))));
        }
        Add(edits, hooks.Create("disable-device-node-modification"));
        if (inv.LibraryDirectories.Count > 0)
            edits.Env!.Add("NVIDIA_CTK_LIBCUDA_DIR=" + string.Join(':', inv.LibraryDirectories.Select(roots.ToContainerPath)));
        foreach (var s in inv.IpcSockets) edits.Mounts!.Add(EditsFactory.Ipc(s, roots.ToContainerPath(s)));
        foreach (var f in inv.Firmware) edits.Mounts!.Add(EditsFactory.ReadOnly(f, roots.ToContainerPath(f)));
        foreach (var b in inv.Binaries) edits.Mounts!.Add(EditsFactory.ReadOnly(b, roots.ToContainerPath(b)));
    }

    static void Add(ContainerEdits edits, Hook? hook)
    {
        if (hook is not null) edits.Hooks!.Add(hook);
    }

    // The links a driver install (or ldconfig) would have made: libcuda.so, libGLX_indirect.so.0, SONAME and .so links.
    internal static List<(string Target, string Link)> LibrarySymlinks(Host.HostRoots roots, IEnumerable<string> libraries)
    {
        var links = new List<(string, string)>();
        var libs = libraries.Select(l => (Host: l, Name: Path.GetFileName(l), Dir: Path.GetDirectoryName(roots.ToContainerPath(l))!)).ToList();
        foreach (var (_, name, dir) in libs)
        {
            if (Glob.Match("libcuda.so.*.*", name)) links.Add(("libcuda.so.1", dir + "/libcuda.so"));
            if (Glob.Match("libGLX_nvidia.so.*.*", name)) links.Add((name, dir + "/libGLX_indirect.so.0"));
            if (Glob.Match("libnvidia-opticalflow.so.*.*", name)) links.Add(("libnvidia-opticalflow.so.1", dir + "/libnvidia-opticalflow.so"));
        }
        foreach (var (host, name, dir) in libs)
        {
            if (!Glob.Match("*.*.*", name)) continue;
            var hostDir = Path.GetDirectoryName(host)!;
            var soname = ElfReader.TryRead(host, out var info, out _) ? info!.Soname : null;
            if (soname is null) continue;
            if (soname != name && IsSymlink(Path.Combine(hostDir, soname))) links.Add((name, $"{dir}/{soname}"));
            var stem = name;
            while (!stem.EndsWith(".so", StringComparison.Ordinal) && stem.LastIndexOf('.') is var dot && dot > 0) stem = stem[..dot];
            if (stem.EndsWith(".so", StringComparison.Ordinal) && stem != name && IsSymlink(Path.Combine(hostDir, stem)))
                links.Add((soname, $"{dir}/{stem}"));
        }
        return links.Distinct().ToList();
    }

    static bool IsSymlink(string path) => new FileInfo(path).LinkTarget is not null;
}

using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Cdi.Generate;

// The spec of a WSL2 guest (toolkit.md §4.4 wsl): one device, all, that is /dev/dxg (every GPU is behind it);
// common edits mount libdxcore and the driver store's files at their own paths, link the store's nvidia-smi into
// /usr/bin, and run ldconfig over the store and /usr/lib/wsl/lib.
internal static class WslSpecGenerator
{
    public static Spec Generate(WslDriver wsl, HookFactory hooks, string vendor, string cls, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
            if (id != "all") throw new Common.GantryException($"unknown device id '{id}': a WSL2 guest has a single device, all (/dev/dxg)");
        var roots = wsl.Roots;
        var device = new ContainerEdits { DeviceNodes = [EditsFactory.Node(roots.DevToContainerPath(wsl.Dxg), wsl.Dxg)] };
        var common = Common(wsl, hooks);
        common.Env!.Add("NVIDIA_VISIBLE_DEVICES=void");
        var spec = new Spec { Kind = $"{vendor}/{cls}", Devices = [new Device { Name = "all", ContainerEdits = device }], ContainerEdits = common };
        return SpecAssembly.Assemble(spec, addAllDevice: false);
    }

    /// <summary>The driver files and hooks every container on a WSL2 guest gets.</summary>
    public static ContainerEdits Common(WslDriver wsl, HookFactory hooks)
    {
        var roots = wsl.Roots;
        var edits = new ContainerEdits { Env = new(), Hooks = new(), Mounts = new() };
        foreach (var path in new[] { wsl.Dxcore }.Concat(wsl.StoreFiles))
            edits.Mounts.Add(EditsFactory.ReadOnly(path, roots.ToContainerPath(path)));
        var smi = wsl.StoreFiles.FirstOrDefault(f => Path.GetFileName(f) == "nvidia-smi");
        if (smi is not null && hooks.CreateSymlinks([(roots.ToContainerPath(smi), "/usr/bin/nvidia-smi")]) is { } links) edits.Hooks.Add(links);
        // ldconfig over the directories of the libraries: the store first, then libdxcore's.
        var folders = wsl.StoreFiles.Where(f => Discovery.Glob.Match("lib?*.so*", Path.GetFileName(f))).Append(wsl.Dxcore)
            .Select(f => Path.GetDirectoryName(roots.ToContainerPath(f))!).Distinct().ToList();
        var ldconfig = hooks.LdconfigPath is { Length: > 0 } l ? new[] { "--ldconfig-path", l } : [];
        if (hooks.Create("update-ldcache", ldconfig.Concat(folders.SelectMany(f => new[] { "--folder", f }))) is { } ldcache) edits.Hooks.Add(ldcache);
        return edits;
    }
}

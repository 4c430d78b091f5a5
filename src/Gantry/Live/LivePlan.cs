using System.Text;
using Gantry.Edits;
using Gantry.Host.Cgroups;

namespace Gantry.Live;

// What `nvidia-container-cli configure` does to an already created container, decided before anything is
// touched. Mounts and device nodes are the one edits model (CDI containerEdits: host path, container path,
// options); the rest is what only a live container needs: files written into a fresh tmpfs, library symlinks,
// device-cgroup rules and the ldconfig run. Plain data, applied by LiveApplyThread.
internal sealed class LivePlan
{
    /// <summary>Mounts in the order they are made (a tmpfs before the binds below it), and the device nodes to bind.</summary>
    public ContainerEdits Edits { get; set; } = new() { Mounts = [], DeviceNodes = [] };
    /// <summary>False with --no-devbind: the nodes are not bound (the runtime makes them), their cgroup rules stay.</summary>
    public bool BindDevices { get; set; } = true;
    /// <summary>Files written right after the tmpfs mount that holds them.</summary>
    public List<LiveFile> Files { get; set; } = [];
    /// <summary>Files of the image bound over the library directory (CUDA forward compatibility), after the host mounts.</summary>
    public List<LiveContainerBind> ContainerBinds { get; set; } = [];
    public List<LiveSymlink> Symlinks { get; set; } = [];
    public List<DeviceRule> CgroupRules { get; set; } = [];
    public LiveLdconfig? Ldconfig { get; set; }

    public List<Mount> Mounts => Edits.Mounts!;
    public List<DeviceNode> DeviceNodes => Edits.DeviceNodes!;

    /// <summary>One line per step, in order: the debug log and the planner's golden files.</summary>
    public string Describe()
    {
        var w = new StringBuilder();
        foreach (var m in Mounts)
        {
            w.Append($"mount {(m.Type == "tmpfs" ? "tmpfs" : m.HostPath)} at {m.ContainerPath} ({string.Join(',', m.Options ?? [])})\n");
            foreach (var f in Files.Where(f => LivePaths.IsDirectChild(m.ContainerPath, f.ContainerPath)))
                w.Append($"  write {f.ContainerPath} mode {Convert.ToString(f.Mode, 8)} ({f.Content.Length} bytes)\n");
        }
        foreach (var b in ContainerBinds) w.Append($"mount container {b.Source} at {b.ContainerPath} (ro,nosuid,nodev,bind)\n");
        foreach (var s in Symlinks) w.Append($"symlink {s.Path} -> {s.Target}\n");
        foreach (var d in DeviceNodes)
            w.Append($"{(BindDevices ? "device" : "device (not bound)")} {d.HostPath ?? d.Path} at {d.Path} ({d.Type} {d.Major}:{d.Minor})\n");
        foreach (var r in CgroupRules) w.Append($"cgroup allow {r.Type} {r.Major}:{r.Minor} {r.Access}\n");
        if (Ldconfig is { } l)
            w.Append($"ldconfig {(l.FromHost ? "host " : "container ")}{l.Path} {string.Join(' ', l.Folders)}\n");
        return w.ToString();
    }
}

/// <summary>A small generated file (the driver's procfs copies, the application profile).</summary>
internal sealed class LiveFile
{
    public string ContainerPath { get; set; } = "";
    public string Content { get; set; } = "";
    public int Mode { get; set; }
}

/// <summary>A symlink made in the container, kept only if nothing is there yet (the original never replaces).</summary>
internal sealed class LiveSymlink
{
    public string Path { get; set; } = "";
    public string Target { get; set; } = "";
}

/// <summary>A file of the image (its resolved path) bound read-only at another path of the image.</summary>
internal sealed class LiveContainerBind
{
    public string Source { get; set; } = "";
    public string ContainerPath { get; set; } = "";
}

/// <summary>The ldconfig run: a host binary (--ldconfig=@PATH) or the container's own, and the directories to scan.</summary>
internal sealed class LiveLdconfig
{
    public string Path { get; set; } = "";
    public bool FromHost { get; set; }
    public List<string> Folders { get; set; } = [];
    /// <summary>--no-pivot: the sandbox chroots instead of pivot_root (roots on a ramdisk).</summary>
    public bool NoPivot { get; set; }
}

internal static class LivePaths
{
    public static bool IsDirectChild(string dir, string path) =>
        path.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal) && !path[(dir.TrimEnd('/').Length + 1)..].Contains('/');

    /// <summary>CDI-style mount options to mount(2) flags; "mode=…" and other data options are returned apart.</summary>
    public static (ulong Flags, string? Data) MountFlags(IEnumerable<string>? options)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var o in options ?? [])
        {
            switch (o)
            {
                case "ro": flags |= Host.Ms.RdOnly; break;
                case "nosuid": flags |= Host.Ms.NoSuid; break;
                case "nodev": flags |= Host.Ms.NoDev; break;
                case "noexec": flags |= Host.Ms.NoExec; break;
                case "bind" or "rbind" or "rw" or "rprivate" or "private": break;
                default: data.Add(o); break;
            }
        }
        return (flags, data.Count == 0 ? null : string.Join(',', data));
    }
}

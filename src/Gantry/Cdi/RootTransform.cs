using Gantry.Edits;

namespace Gantry.Cdi;

/// <summary>Which side of a spec's paths a root transform rewrites.</summary>
internal enum RootSide { Host, Container }

// `nvidia-ctk cdi transform root`: moves a spec's paths from one root to another (a driver container's
// /run/nvidia/driver to /, say). A path is rewritten only where the root ends at a component boundary, so
// --from=/driver leaves /driver-backup alone. The host side is device host paths, mount host paths, and the
// paths and arguments of hooks that run on the host; the container side is what the container sees, and the
// hooks that run inside it (createContainer, startContainer).
internal sealed class RootTransform(string from, string to, RootSide side)
{
    readonly string _from = Trim(from);
    readonly string _to = Trim(to);

    public void Apply(Spec spec)
    {
        if (_from == _to) return;
        Apply(spec.ContainerEdits);
        foreach (var d in spec.Devices) Apply(d.ContainerEdits);
    }

    void Apply(ContainerEdits? e)
    {
        if (e is null) return;
        foreach (var n in e.DeviceNodes ?? [])
        {
            if (side == RootSide.Host) n.HostPath = Path(string.IsNullOrEmpty(n.HostPath) ? n.Path : n.HostPath);
            else n.Path = Path(n.Path);
        }
        foreach (var m in e.Mounts ?? [])
        {
            if (side == RootSide.Host) m.HostPath = Path(m.HostPath);
            else m.ContainerPath = Path(m.ContainerPath);
        }
        foreach (var h in e.Hooks ?? [])
        {
            var inContainer = h.HookName is "createContainer" or "startContainer";
            var pathInContainer = h.HookName == "startContainer";
            if ((side == RootSide.Host) != pathInContainer) h.Path = Path(h.Path);
            if ((side == RootSide.Host) != inContainer && h.Args is { } args)
                for (var i = 0; i < args.Count; i++) args[i] = Argument(args[i]);
        }
    }

    // A create-symlinks "target::link" argument has a path on each side.
    string Argument(string arg)
    {
        var sep = arg.IndexOf("::", StringComparison.Ordinal);
        return sep < 0 ? Path(arg) : Path(arg[..sep]) + "::" + Path(arg[(sep + 2)..]);
    }

    /// <summary>path with the from-root swapped for the to-root, when path lies under from-root.</summary>
    public string Path(string path)
    {
        if (_from == "/")
            return path.StartsWith('/') ? Join(_to, path) : path;
        if (path == _from) return _to == "" ? "/" : _to;
        if (!path.StartsWith(_from + "/", StringComparison.Ordinal)) return path;
        return Join(_to, path[_from.Length..]);
    }

    static string Join(string root, string rest) => (root == "/" ? "" : root) + rest;

    static string Trim(string root) => root.Length == 0 ? "" : root.TrimEnd('/') is { Length: > 0 } t ? t : "/";
}

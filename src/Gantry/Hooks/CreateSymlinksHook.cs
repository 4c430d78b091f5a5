using Gantry.Common;
using Gantry.Host;

namespace Gantry.Hooks;

// create-symlinks --link target::link ...: each link is created inside the root (parents too), pointing at the
// target string verbatim. A link already pointing at the target is left alone; a missing one is made in place;
// anything else at the link path is replaced atomically (symlinkat to a random name, then renameat over it).
internal sealed class CreateSymlinksHook : ICdiHook
{
    public string Name => "create-symlinks";
    public string Summary => "A hook to create symlinks in the container.";

    public FlagSet DefineFlags() => new FlagSet()
        .List("link", "Specify a specific link to create. The link is specified as target::link. If the link exists in the container root, it is removed.")
        .WithContainerSpec();

    public void Run(FlagSet flags, HookContext context)
    {
        var specs = ParseLinks(flags.GetList("link"));
        using var root = context.OpenContainerRoot(flags);
        using var dirs = new Directories(root);
        foreach (var (target, link) in specs)
            Create(dirs, target, link, context.Log);
    }

    // Most links share a directory or two: each is resolved (and made) once per run.
    sealed class Directories(ContainerRoot root) : IDisposable
    {
        readonly Dictionary<string, OwnedFd> _open = new(StringComparer.Ordinal);
        public ContainerRoot Root => root;
        public OwnedFd Get(string path) =>
            _open.TryGetValue(path, out var fd) ? fd : _open[path] = root.MkdirAll(path, 0b111_101_101);
        public void Dispose() { foreach (var fd in _open.Values) fd.Dispose(); }
    }

    /// <summary>Unique "target::link" specs in the order given; anything else is an error.</summary>
    public static List<(string Target, string Link)> ParseLinks(IEnumerable<string> specs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(string, string)>();
        foreach (var spec in specs)
        {
            if (!seen.Add(spec)) continue;
            var parts = spec.Split("::");
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new GantryException($"invalid symlink specification {spec}: expected target::link");
            result.Add((parts[0], parts[1]));
        }
        return result;
    }

    public static void Create(ContainerRoot root, string target, string link, Log log)
    {
        using var dirs = new Directories(root);
        Create(dirs, target, link, log);
    }

    static void Create(Directories dirs, string target, string link, Log log)
    {
        var root = dirs.Root;
        var parts = ContainerPath.Clean(link);
        if (parts.Count == 0) throw new GantryException($"invalid symlink specification {target}::{link}: the link path is the container root");
        var name = parts[^1];
        var parent = "/" + string.Join('/', parts.Take(parts.Count - 1));
        var linkPath = ContainerPath.Normalize(link);
        try
        {
            var dir = dirs.Get(parent);
            var sys = root.Sys;
            var r = sys.SymlinkAt(target, dir.Value, name);
            if (r == 0)
            {
                log.Debug($"Created symlink {linkPath} -> {target}");
                FaultPoint.Hit("hook-symlink-made");
                return;
            }
            if (r != -Errno.EEXIST) SyscallResult.Check(r, "symlink", linkPath);
            if (sys.ReadLinkAt(dir.Value, name, out var existing) >= 0 && existing == target)
            {
                log.Debug($"Skipping {linkPath}: already a symlink to {target}");
                return;
            }
            var tmp = $"{name}-{RandomName.Uuid()}";
            SyscallResult.Check(sys.SymlinkAt(target, dir.Value, tmp), "symlink", linkPath);
            r = sys.RenameAt(dir.Value, tmp, dir.Value, name);
            if (r < 0)
            {
                sys.UnlinkAt(dir.Value, tmp, 0);
                SyscallResult.Check(r, "rename", linkPath);
            }
            log.Debug($"Created symlink {linkPath} -> {target}");
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to create symlink {linkPath} -> {target} in {root.HostPath}: {e.Message}", e);
        }
    }
}

using System.Text.Json.Nodes;
using Gantry.Host;
using Gantry.Oci;

namespace Gantry.Runtime;

// runc makes an empty file in the root for every file it bind-mounts that the image lacks. In an overlay root each
// is a new inode in the container's upper layer, and on an ext4 without a journal a new inode costs more the more
// files were deleted in the last half minute (the allocator skips them one by one), which is what container churn
// does. The shim makes the mount points of the files it adds first, as hard links of one empty file: one new inode
// per container instead of one per driver file. runc finds them in place and mounts over them. Everything is
// resolved inside the root (ContainerRoot), as runc resolves it; anything unexpected stops the seeding and leaves
// the rest to runc. The shim seeds while runc starts (runc needs the first mount point only some 20 ms later, after
// its own start and its init's set-up); where runc is first, it made that one itself and the seeding skips it. A
// create that fails takes back what was made (Undo).
internal sealed class MountPointSeeder(ISyscalls sys, string rootPath, IReadOnlyList<string> destinations)
{
    const int Mode = 0b111_101_101; // what runc gives the files and directories it makes for mount points

    readonly List<(string Path, bool IsDirectory)> _made = [];
    readonly List<FileStatus> _seeds = [];

    /// <summary>What was made, oldest first: container paths and whether each is a directory.</summary>
    public IReadOnlyList<(string Path, bool IsDirectory)> Made => _made;

    /// <summary>
    /// The seeder for the bind mounts of files in spec that are not in before, or null where there are none or
    /// the shim must leave them to runc: in a user namespace runc makes them as the container's root, not the host's.
    /// </summary>
    public static MountPointSeeder? Plan(OciSpec spec, string bundle, IReadOnlySet<JsonNode> before)
    {
        if (ContainerRootHandover.IsUserNamespaced(spec)) return null;
        if (spec.Root["root"] is not JsonObject root || OciSpec.Str(root, "path") is not { Length: > 0 } path) return null;
        if (spec.Root["mounts"] is not JsonArray mounts) return null;
        var destinations = mounts.OfType<JsonObject>().Where(m => !before.Contains(m) && IsFileBind(m))
            .Select(m => OciSpec.Str(m, "destination")!).ToList();
        if (destinations.Count == 0) return null;
        return new MountPointSeeder(LinuxSyscalls.Instance, path.StartsWith('/') ? path : Path.Combine(bundle, path), destinations);
    }

    static bool IsFileBind(JsonObject m)
    {
        var bind = OciSpec.Str(m, "type") == "bind" || (m["options"] as JsonArray)?.Any(o => o?.ToString() is "bind" or "rbind") == true;
        // File.Exists follows symlinks, as runc does, and is false for directories.
        return bind && OciSpec.Str(m, "destination") is { Length: > 0 } && OciSpec.Str(m, "source") is { } s && s.StartsWith('/') && File.Exists(s);
    }

    /// <summary>The container paths of the mount points to make.</summary>
    public IReadOnlyList<string> Destinations => destinations;

    /// <summary>Makes the missing mount points; returns how many files were made.</summary>
    public int Seed(RuntimeLog log)
    {
        var count = 0;
        try
        {
            using var root = ContainerRoot.Open(sys, rootPath);
            OwnedFd? seed = null;
            try
            {
                // Driver files share a few directories: each is resolved (and made) once.
                foreach (var group in destinations.Select(ContainerPath.Clean).Where(p => p.Count > 0).GroupBy(p => string.Join('/', p.Take(p.Count - 1))))
                {
                    using var dir = MakeParents(root, group.First().Take(group.First().Count - 1).ToList());
                    string? dirPath = null;
                    foreach (var name in group.Select(p => p[^1]).Distinct(StringComparer.Ordinal))
                    {
                        var destination = "/" + (group.Key.Length > 0 ? group.Key + "/" : "") + name;
                        if (sys.Statx(dir.Value, name, At.SymlinkNoFollow, out _) >= 0) continue; // runc deals with what is there
                        var r = seed is null ? -Errno.EXDEV : sys.LinkAt(seed.Value, "", dir.Value, name, At.EmptyPath);
                        if (r == -Errno.EXDEV) // the first one, or another file system inside the root: a new seed there
                        {
                            var created = root.TryCreateExclusive(dir, name, Mode, destination, out var errno);
                            r = -errno;
                            if (created is not null)
                            {
                                seed?.Dispose();
                                seed = created;
                                _seeds.Add(root.Stat(seed, destination));
                            }
                        }
                        if (r == -Errno.EEXIST) continue; // runc, running beside, was first
                        SyscallResult.Check(r, "create", destination);
                        dirPath ??= root.ContainerPathOf(dir);
                        _made.Add((Join(dirPath, name), false));
                        count++;
                    }
                }
            }
            finally { seed?.Dispose(); }
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            log.Debug($"mount points: left the rest to the runtime after {count}: {e.Message}");
        }
        return count;
    }

    // MkdirAll, one level at a time, noting each directory it made.
    OwnedFd MakeParents(ContainerRoot root, List<string> parts)
    {
        for (var i = 1; i <= parts.Count; i++)
        {
            var prefix = "/" + string.Join('/', parts.Take(i));
            if (root.StatOrNull(prefix) is { IsDirectory: true }) continue;
            using var made = root.MkdirAll(prefix, Mode);
            _made.Add((root.ContainerPathOf(made), true));
        }
        return root.OpenDirectory("/" + string.Join('/', parts));
    }

    /// <summary>Removes what Seed made, newest first: files only while they are still the seed, directories only while empty.</summary>
    public void Undo(RuntimeLog log)
    {
        if (_made.Count == 0) return;
        try
        {
            using var root = ContainerRoot.Open(sys, rootPath);
            for (var i = _made.Count - 1; i >= 0; i--)
            {
                var (path, isDirectory) = _made[i];
                var slash = path.LastIndexOf('/');
                if (!root.TryOpen(slash == 0 ? "/" : path[..slash], O.Path | O.Directory | O.NoFollow, out var dir, out _)) continue;
                using (dir)
                {
                    var name = path[(slash + 1)..];
                    if (isDirectory) sys.UnlinkAt(dir!.Value, name, At.RemoveDir);
                    else if (sys.Statx(dir!.Value, name, At.SymlinkNoFollow, out var st) >= 0 && _seeds.Any(st.SameFileAs)) sys.UnlinkAt(dir.Value, name, 0);
                }
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            log.Warning($"could not remove the mount points made in {rootPath}: {e.Message}");
        }
        _made.Clear();
    }

    static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;
}

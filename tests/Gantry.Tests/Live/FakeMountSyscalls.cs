using Gantry.Host;
using Gantry.Tests.Host;

namespace Gantry.Tests.Live;

/// <summary>One mount(2) call as the applier made it; TargetHostPath is where /proc/self/fd/N led at that moment.</summary>
internal sealed record MountCall(string? Source, string Target, string? FsType, ulong Flags, string? Data, string? TargetHostPath)
{
    public bool IsRemount => (Flags & Ms.Remount) != 0;
}

/// <summary>
/// Mounts without root: every file call goes to the real file system (so targets are made and resolved for
/// real), but mount(2) and umount(2) only change a table. A "bind" makes statx of the target answer with the
/// source's identity, a "tmpfs" makes the directory answer as a tmpfs on a device of its own, as the kernel
/// would show them; umount takes the entry away (a tmpfs also takes the files written into it). Records every
/// call, fails the N-th new mount on request, and fakes setns, unshare(CLONE_FS) and chown.
/// </summary>
internal sealed class FakeMountSyscalls(ISyscalls inner) : ForwardingSyscalls(inner)
{
    readonly ISyscalls _inner = inner;
    readonly Dictionary<(uint, uint, ulong), Entry> _active = new();
    readonly HashSet<(uint, uint, ulong)> _procfs = new();
    readonly object _lock = new();
    uint _nextDevice = 4000;

    sealed record Entry(string What, FileStatus? Source, uint FakeMinor, HashSet<string>? NamesBefore, string HostPath);

    public List<MountCall> Mounts { get; } = new();
    public List<(string Target, string? HostPath, int Flags)> Umounts { get; } = new();
    public List<(string Path, uint Uid, uint Gid, int Flags)> Chowns { get; } = new();
    public List<(int Fd, int NsType)> SetNsCalls { get; } = new();
    public List<int> UnshareCalls { get; } = new();

    /// <summary>The 1-based number of the new mount (bind or tmpfs, not a remount) that fails; 0: none.</summary>
    public int FailMountAt { get; set; }
    public int FailErrno { get; set; } = Errno.EPERM;
    /// <summary>The 1-based number of the remount (a bind made read-only) that fails; 0: none.</summary>
    public int FailRemountAt { get; set; }
    /// <summary>A directory name whose mkdirat fails with EACCES.</summary>
    public string? FailMkdirOf { get; set; }
    public int ChownResult { get; set; }
    public int SetNsResult { get; set; }

    /// <summary>Host paths of what is mounted now, in no particular order.</summary>
    public IReadOnlyList<string> Active
    {
        get { lock (_lock) return _active.Values.Select(e => $"{e.What} {e.HostPath}").ToList(); }
    }

    public int NewMounts => Mounts.Count(m => !m.IsRemount);

    /// <summary>Makes the directory at hostPath answer as a procfs (fstatfs), as a real /proc of the container would.</summary>
    public void MarkProcfs(string hostPath)
    {
        Assert.Equal(0, _inner.Statx(At.FdCwd, hostPath, 0, out var st));
        _procfs.Add(Key(st));
    }

    /// <summary>Every directory answers with its real file system type again.</summary>
    public void ForgetProcfs() => _procfs.Clear();

    static (uint, uint, ulong) Key(FileStatus s) => (s.DevMajor, s.DevMinor, s.Inode);

    string? HostPathOf(string procPath) => _inner.ReadLinkAt(At.FdCwd, procPath, out var p) >= 0 ? p : null;

    public override int Mount(string? source, string target, string? fsType, ulong flags, string? data)
    {
        lock (_lock)
        {
            var call = new MountCall(source, target, fsType, flags, data, HostPathOf(target));
            Mounts.Add(call);
            if (call.IsRemount) return Mounts.Count(m => m.IsRemount) == FailRemountAt ? -FailErrno : 0;
            if (NewMounts == FailMountAt) return -FailErrno;
            var r = _inner.Statx(At.FdCwd, target, 0, out var at);
            if (r < 0) return r;
            if (fsType == "tmpfs")
            {
                var names = new DirectoryInfo(call.TargetHostPath!).EnumerateFileSystemInfos().Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
                _active[Key(at)] = new Entry("tmpfs", null, _nextDevice++, names, call.TargetHostPath!);
                return 0;
            }
            if ((flags & Ms.Bind) == 0 || source is null) return -Errno.EINVAL;
            r = _inner.Statx(At.FdCwd, source, 0, out var from);
            if (r < 0) return r;
            _active[Key(at)] = new Entry("bind", from, 0, null, call.TargetHostPath!);
            return 0;
        }
    }

    public override int Umount(string target, int flags)
    {
        lock (_lock)
        {
            var host = HostPathOf(target);
            Umounts.Add((target, host, flags));
            var r = _inner.Statx(At.FdCwd, target, 0, out var st);
            if (r < 0) return r;
            if (!_active.Remove(Key(st), out var e)) return -Errno.EINVAL;
            if (e.NamesBefore is not null)
                foreach (var entry in new DirectoryInfo(e.HostPath).EnumerateFileSystemInfos().Where(i => !e.NamesBefore.Contains(i.Name)))
                    entry.Delete(); // what was written into the tmpfs goes with it (files only: the applier writes no more)
            return 0;
        }
    }

    public override int Statx(int dirfd, string path, int flags, out FileStatus status)
    {
        var r = _inner.Statx(dirfd, path, flags, out status);
        if (r < 0) return r;
        lock (_lock)
        {
            if (!_active.TryGetValue(Key(status), out var e)) return r;
            status = e.Source ?? status with { DevMajor = 0, DevMinor = e.FakeMinor };
        }
        return r;
    }

    public override int FsType(int fd, out long type)
    {
        if (_inner.Statx(fd, "", At.EmptyPath, out var st) >= 0)
        {
            lock (_lock)
            {
                if (_active.TryGetValue(Key(st), out var e) && e.What == "tmpfs") { type = FsMagic.Tmpfs; return 0; }
                if (_procfs.Contains(Key(st))) { type = FsMagic.Proc; return 0; }
            }
        }
        return _inner.FsType(fd, out type);
    }

    public override int MkdirAt(int dirfd, string name, int mode) =>
        name == FailMkdirOf ? -Errno.EACCES : _inner.MkdirAt(dirfd, name, mode);

    public override int FChownAt(int dirfd, string path, uint uid, uint gid, int flags)
    {
        lock (_lock)
        {
            var dir = HostPathOf($"/proc/self/fd/{dirfd}");
            Chowns.Add((path.Length == 0 ? dir ?? "" : $"{dir}/{path}", uid, gid, flags));
        }
        return ChownResult;
    }

    public override int SetNs(int fd, int nsType)
    {
        lock (_lock) SetNsCalls.Add((fd, nsType));
        return SetNsResult;
    }

    public override int Unshare(int flags)
    {
        lock (_lock) UnshareCalls.Add(flags);
        return 0;
    }
}

/// <summary>Every entry under a directory with its type and, for a symlink, its target (never followed): a tree compared before and after.</summary>
internal static class TreeListing
{
    public static string Of(string dir)
    {
        var lines = new List<string>();
        Walk(dir, dir, lines);
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    static void Walk(string top, string dir, List<string> lines)
    {
        foreach (var path in Directory.GetFileSystemEntries(dir))
        {
            var info = new FileInfo(path);
            var rel = Path.GetRelativePath(top, path);
            if (info.LinkTarget is { } link) lines.Add($"{rel} -> {link}");
            else if (Directory.Exists(path))
            {
                lines.Add($"{rel}/");
                Walk(top, path, lines);
            }
            else lines.Add($"{rel} ({info.Length} bytes)");
        }
    }
}

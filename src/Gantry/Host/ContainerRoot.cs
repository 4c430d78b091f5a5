namespace Gantry.Host;

/// <summary>
/// A container root filesystem pinned by an fd. Every path inside it is resolved here, confined to the root:
/// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) when the kernel has it, a component walk otherwise (ContainerRoot.Walk.cs).
/// Symlinks the image owns are followed as if the root were "/", so they cannot lead out. Callers get fds, not
/// paths, and create files relative to those fds with O_NOFOLLOW | O_EXCL.
/// </summary>
internal sealed partial class ContainerRoot : IDisposable
{
    const ulong ResolveFlags = Resolve.InRoot | Resolve.NoMagicLinks;
    readonly ISyscalls _sys;
    readonly OwnedFd _root;
    bool _noOpenat2;

    ContainerRoot(ISyscalls sys, string hostPath, OwnedFd root)
    {
        _sys = sys;
        HostPath = hostPath;
        _root = root;
    }

    /// <summary>The host path of the root, for messages and for the /proc/self/fd → container path mapping.</summary>
    public string HostPath { get; }
    public ISyscalls Sys => _sys;
    public OwnedFd Fd => _root;
    /// <summary>False once openat2 answered ENOSYS and the component walk took over.</summary>
    public bool UsesOpenat2 => !_noOpenat2;

    /// <summary>Opens the root directory. The host path itself comes from the runtime (bundle), not from the image.</summary>
    public static ContainerRoot Open(ISyscalls sys, string hostPath, bool forceWalk = false)
    {
        if (!hostPath.StartsWith('/')) throw new ArgumentException($"container root '{hostPath}' is not an absolute path");
        var fd = sys.OpenAt(At.FdCwd, hostPath, O.Path | O.Directory);
        if (fd < 0) throw new SyscallException("open container root", hostPath, -fd);
        return new ContainerRoot(sys, hostPath.Length > 1 ? hostPath.TrimEnd('/') : hostPath, new OwnedFd(sys, fd)) { _noOpenat2 = forceWalk };
    }

    /// <summary>Takes over a directory fd opened elsewhere (e.g. a rootfs resolved inside /proc/PID/root).</summary>
    public static ContainerRoot Adopt(ISyscalls sys, string hostPath, OwnedFd root) => new(sys, hostPath, root);

    /// <summary>Resolves <paramref name="path"/> inside the root and opens it; -errno on failure.</summary>
    public int TryOpenRaw(string path, int flags, int mode = 0)
    {
        var rel = ContainerPath.Relative(path);
        if (!_noOpenat2)
        {
            for (var attempt = 0; ; attempt++)
            {
                var fd = _sys.OpenAt2(_root.Value, rel, flags, mode, ResolveFlags);
                // EAGAIN: a rename raced the ".." check; the kernel asks the caller to retry.
                if (fd == -Errno.EAGAIN && attempt < 16) continue;
                if (fd != -Errno.ENOSYS) return fd;
                _noOpenat2 = true;
                break;
            }
        }
        return WalkOpen(_sys, _root.Value, rel, flags, mode);
    }

    public bool TryOpen(string path, int flags, out OwnedFd? fd, out int errno, int mode = 0)
    {
        var r = TryOpenRaw(path, flags, mode);
        fd = r >= 0 ? new OwnedFd(_sys, r) : null;
        errno = r >= 0 ? 0 : -r;
        return r >= 0;
    }

    public OwnedFd Open(string path, int flags, int mode = 0) =>
        new(_sys, Check(TryOpenRaw(path, flags, mode), "open", path));

    /// <summary>An O_PATH fd on the directory at path (symlinks followed, confined).</summary>
    public OwnedFd OpenDirectory(string path) => Open(path, O.Path | O.Directory);

    /// <summary>Status of path inside the root; null when it does not exist. followFinal=false looks at a final symlink itself.</summary>
    public FileStatus? StatOrNull(string path, bool followFinal = true)
    {
        var r = TryOpenRaw(path, O.Path | (followFinal ? 0 : O.NoFollow));
        if (r == -Errno.ENOENT || r == -Errno.ENOTDIR || r == -Errno.ELOOP) return null;
        using var fd = new OwnedFd(_sys, Check(r, "open", path));
        return Stat(fd, path);
    }

    public FileStatus Stat(OwnedFd fd, string pathForMessages)
    {
        Check(_sys.Statx(fd.Value, "", At.EmptyPath | At.SymlinkNoFollow, out var st), "stat", pathForMessages);
        return st;
    }

    /// <summary>
    /// Creates every missing directory of path (mode before umask), each with mkdirat relative to its resolved
    /// parent and re-opened O_NOFOLLOW, and returns the final directory. Existing symlinks are followed, confined;
    /// a dangling one has its target created (inside the root, like every other path here).
    /// </summary>
    public OwnedFd MkdirAll(string path, int mode) => MkdirAll(path, mode, 0);

    OwnedFd MkdirAll(string path, int mode, int danglingLinks)
    {
        var parts = ContainerPath.Clean(path);
        var current = Open("/", O.Path | O.Directory);
        try
        {
            for (var i = 0; i < parts.Count; i++)
            {
                var prefix = "/" + string.Join('/', parts.Take(i + 1));
                var r = TryOpenRaw(prefix, O.Path | O.Directory);
                if (r == -Errno.ENOENT)
                {
                    var m = _sys.MkdirAt(current.Value, parts[i], mode);
                    if (m < 0 && m != -Errno.EEXIST) Check(m, "mkdir", prefix);
                    r = _sys.OpenAt(current.Value, parts[i], O.Path | O.Directory | O.NoFollow);
                    if (r < 0 && _sys.ReadLinkAt(current.Value, parts[i], out var target) >= 0)
                    {
                        // A dangling symlink: create its target instead, still resolved inside the root.
                        if (danglingLinks >= 40) Check(-Errno.ELOOP, "mkdir", prefix);
                        var parent = "/" + string.Join('/', parts.Take(i));
                        var redirected = (target.StartsWith('/') ? target : parent + "/" + target) + "/" + string.Join('/', parts.Skip(i + 1));
                        current.Dispose();
                        return MkdirAll(redirected, mode, danglingLinks + 1);
                    }
                }
                var next = new OwnedFd(_sys, Check(r, "open directory", prefix));
                current.Dispose();
                current = next;
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>Creates a new file called name in dir: O_CREAT|O_EXCL|O_NOFOLLOW, then fchmod so umask cannot change mode.</summary>
    public OwnedFd CreateExclusive(OwnedFd dir, string name, int mode, string pathForMessages) =>
        TryCreateExclusive(dir, name, mode, pathForMessages, out var errno) ?? throw new SyscallException("create", $"{pathForMessages} (in container root {HostPath})", errno);

    /// <summary>CreateExclusive, with a failure to create (EEXIST, …) given back as errno instead of thrown.</summary>
    public OwnedFd? TryCreateExclusive(OwnedFd dir, string name, int mode, string pathForMessages, out int errno)
    {
        if (!ContainerPath.IsPlainName(name)) throw new ArgumentException($"'{name}' is not a plain file name");
        var r = _sys.OpenAt(dir.Value, name, O.WrOnly | O.Creat | O.Excl | O.NoFollow, mode);
        errno = r < 0 ? -r : 0;
        if (r < 0) return null;
        var fd = new OwnedFd(_sys, r);
        Check(_sys.FChmod(fd.Value, mode), "chmod", pathForMessages);
        return fd;
    }

    /// <summary>Writes a new file atomically: an exclusive temp file in dir, then renameat over name.</summary>
    public void ReplaceFile(OwnedFd dir, string name, ReadOnlySpan<byte> content, int mode, string pathForMessages)
    {
        var tmp = $".{name}.{RandomName.Next()}.tmp";
        try
        {
            using (var fd = CreateExclusive(dir, tmp, mode, pathForMessages))
                WriteAll(fd, content, pathForMessages);
            Check(_sys.RenameAt(dir.Value, tmp, dir.Value, name), "rename", pathForMessages);
        }
        catch
        {
            _sys.UnlinkAt(dir.Value, tmp, 0);
            throw;
        }
    }

    public void WriteAll(OwnedFd fd, ReadOnlySpan<byte> content, string pathForMessages) =>
        Check(_sys.Write(fd.Value, content), "write", pathForMessages);

    /// <summary>Reads a whole file (symlinks followed, confined), refusing anything but a regular file or one over maxBytes.</summary>
    public byte[] ReadAll(string path, int maxBytes = 1 << 20)
    {
        using var fd = Open(path, O.RdOnly);
        var st = Stat(fd, path);
        if (!st.IsRegular) throw new IOException($"{path} in {HostPath} is not a regular file");
        var all = BoundedRead.All((long)Math.Min(st.Size, int.MaxValue), maxBytes, b => Check(_sys.Read(fd.Value, b.Span), "read", path),
            () => new IOException($"{path} in {HostPath} is larger than {maxBytes} bytes"));
        return all.Count == all.Array!.Length ? all.Array : all.ToArray();
    }

    /// <summary>The container path an fd from this root stands for (after symlinks were resolved).</summary>
    public string ContainerPathOf(OwnedFd fd)
    {
        Check(_sys.ReadLinkAt(At.FdCwd, fd.ProcPath, out var host), "readlink", fd.ProcPath);
        Check(_sys.ReadLinkAt(At.FdCwd, _root.ProcPath, out var root), "readlink", _root.ProcPath);
        if (host == root) return "/";
        if (root == "/") return host;
        if (host.StartsWith(root + "/", StringComparison.Ordinal)) return host[root.Length..];
        throw new IOException($"{host} is not inside the container root {root}");
    }

    int Check(int result, string call, string path) =>
        result >= 0 ? result : throw new SyscallException(call, $"{path} (in container root {HostPath})", -result);

    public void Dispose() => _root.Dispose();
}

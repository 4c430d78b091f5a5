using Gantry.Host;

namespace Gantry.Tests.Host;

/// <summary>Forwards every call to the real seam; subclasses override one call to inject a failure or record it.</summary>
internal class ForwardingSyscalls(ISyscalls inner) : ISyscalls
{
    public virtual int OpenAt(int dirfd, string path, int flags, int mode = 0) => inner.OpenAt(dirfd, path, flags, mode);
    public virtual int OpenAt2(int dirfd, string path, int flags, int mode, ulong resolve) => inner.OpenAt2(dirfd, path, flags, mode, resolve);
    public int Close(int fd) => inner.Close(fd);
    public int Read(int fd, Span<byte> buffer) => inner.Read(fd, buffer);
    public int Write(int fd, ReadOnlySpan<byte> data) => inner.Write(fd, data);
    public virtual int MkdirAt(int dirfd, string name, int mode) => inner.MkdirAt(dirfd, name, mode);
    public virtual int SymlinkAt(string target, int dirfd, string name) => inner.SymlinkAt(target, dirfd, name);
    public virtual int LinkAt(int oldDirfd, string oldPath, int newDirfd, string newName, int flags) => inner.LinkAt(oldDirfd, oldPath, newDirfd, newName, flags);
    public int RenameAt(int oldDirfd, string oldName, int newDirfd, string newName) => inner.RenameAt(oldDirfd, oldName, newDirfd, newName);
    public virtual int UnlinkAt(int dirfd, string name, int flags) => inner.UnlinkAt(dirfd, name, flags);
    public virtual int ReadLinkAt(int dirfd, string path, out string target) => inner.ReadLinkAt(dirfd, path, out target);
    public virtual int Statx(int dirfd, string path, int flags, out FileStatus status) => inner.Statx(dirfd, path, flags, out status);
    public virtual int FsType(int fd, out long type) => inner.FsType(fd, out type);
    public virtual int Chmod(string path, int mode) => inner.Chmod(path, mode);
    public int FChmod(int fd, int mode) => inner.FChmod(fd, mode);
    public virtual int FChownAt(int dirfd, string path, uint uid, uint gid, int flags) => inner.FChownAt(dirfd, path, uid, gid, flags);
    public int ListDirectory(int dirfd, out IReadOnlyList<string> names) => inner.ListDirectory(dirfd, out names);
    public virtual int Mount(string? source, string target, string? fsType, ulong flags, string? data) => inner.Mount(source, target, fsType, flags, data);
    public virtual int Umount(string target, int flags) => inner.Umount(target, flags);
    public virtual int Unshare(int flags) => inner.Unshare(flags);
    public virtual int CloneMount(int fd) => inner.CloneMount(fd);
    public int MoveMount(int fromFd, int toFd) => inner.MoveMount(fromFd, toFd);
    public virtual int SetNs(int fd, int nsType) => inner.SetNs(fd, nsType);
    public int SetResourceLimit(int resource, ulong value) => inner.SetResourceLimit(resource, value);
    public int SetSeccompFilter(ulong[] program) => inner.SetSeccompFilter(program);
    public int PivotRoot(string newRoot, string putOld) => inner.PivotRoot(newRoot, putOld);
    public int Chroot(string path) => inner.Chroot(path);
    public int Chdir(string path) => inner.Chdir(path);
    public int FChdir(int fd) => inner.FChdir(fd);
    public int DropCapabilities(ulong keepInheritable, int lastCapability) => inner.DropCapabilities(keepInheritable, lastCapability);
    public int ExecveAt(int dirfd, string path, string[] argv, string[] envp, int flags) => inner.ExecveAt(dirfd, path, argv, envp, flags);
    public uint EffectiveUid() => inner.EffectiveUid();
    // Recorded, not done: a test thread keeps its own credentials.
    public virtual int CreateFilesAs(uint uid, uint gid) { FilesCreatedAs = (uid, gid); return 0; }
    public (uint Uid, uint Gid)? FilesCreatedAs { get; private set; }
    public void Exit(int status) => inner.Exit(status);
}

/// <summary>A kernel without openat2: every resolution goes through the component walk.</summary>
internal sealed class NoOpenat2Syscalls() : ForwardingSyscalls(LinuxSyscalls.Instance)
{
    public int Openat2Calls;
    public override int OpenAt2(int dirfd, string path, int flags, int mode, ulong resolve)
    {
        Interlocked.Increment(ref Openat2Calls);
        return -Errno.ENOSYS;
    }
}

/// <summary>Records mount targets so tests can check every mount went onto a /proc/self/fd path.</summary>
internal sealed class RecordingSyscalls() : ForwardingSyscalls(LinuxSyscalls.Instance)
{
    public List<(string? Source, string Target, ulong Flags)> Mounts { get; } = new();
    public override int Mount(string? source, string target, string? fsType, ulong flags, string? data)
    {
        lock (Mounts) Mounts.Add((source, target, flags));
        return base.Mount(source, target, fsType, flags, data);
    }
}

/// <summary>The two resolvers every confinement test runs against.</summary>
public static class Resolvers
{
    public static TheoryData<string> Both => new() { "openat2", "walk" };
    internal static ISyscalls For(string kind) => kind == "walk" ? new NoOpenat2Syscalls() : LinuxSyscalls.Instance;
}

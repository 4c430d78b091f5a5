namespace Gantry.Host;

/// <summary>
/// The OS seam: every system call the hooks make. Results follow the kernel convention: a value &gt;= 0 on
/// success, -errno on failure, so callers can branch on expected misses without exceptions.
/// </summary>
internal interface ISyscalls
{
    int OpenAt(int dirfd, string path, int flags, int mode = 0);
    /// <summary>openat2(2); -ENOSYS where the kernel (or a seccomp profile) lacks it.</summary>
    int OpenAt2(int dirfd, string path, int flags, int mode, ulong resolve);
    int Close(int fd);
    int Read(int fd, Span<byte> buffer);
    int Write(int fd, ReadOnlySpan<byte> data);
    int MkdirAt(int dirfd, string name, int mode);
    int SymlinkAt(string target, int dirfd, string name);
    /// <summary>linkat(2); with At.EmptyPath, oldPath "" links the file open at oldDirfd itself.</summary>
    int LinkAt(int oldDirfd, string oldPath, int newDirfd, string newName, int flags);
    int RenameAt(int oldDirfd, string oldName, int newDirfd, string newName);
    int UnlinkAt(int dirfd, string name, int flags);
    int ReadLinkAt(int dirfd, string path, out string target);
    int Statx(int dirfd, string path, int flags, out FileStatus status);
    int FsType(int fd, out long type);
    int Chmod(string path, int mode);
    int FChmod(int fd, int mode);
    int FChownAt(int dirfd, string path, uint uid, uint gid, int flags);
    /// <summary>Names in the directory open at dirfd ("." and ".." excluded).</summary>
    int ListDirectory(int dirfd, out IReadOnlyList<string> names);

    int Mount(string? source, string target, string? fsType, ulong flags, string? data);
    int Umount(string target, int flags);
    /// <summary>open_tree(2) with OPEN_TREE_CLONE of the file open at fd: a detached bind mount of it, which can be
    /// attached in another mount namespace (a plain bind needs its source in the caller's); -ENOSYS before 5.2.</summary>
    int CloneMount(int fd);
    /// <summary>move_mount(2): attaches the detached mount open at fromFd onto the file or directory open at toFd.</summary>
    int MoveMount(int fromFd, int toFd);
    int Unshare(int flags);
    /// <summary>setns(2) for the calling thread; CLONE_NEWNS needs CLONE_FS unshared first in a threaded process.</summary>
    int SetNs(int fd, int nsType);
    /// <summary>setrlimit(2) with the soft and hard limit both set to value.</summary>
    int SetResourceLimit(int resource, ulong value);
    /// <summary>Installs a classic-BPF seccomp filter (one sock_filter per word); needs no_new_privs first.</summary>
    int SetSeccompFilter(ulong[] program);
    int PivotRoot(string newRoot, string putOld);
    int Chroot(string path);
    int Chdir(string path);
    int FChdir(int fd);

    /// <summary>Keeps only the given capabilities inheritable, empties the ambient and bounding sets, sets no_new_privs.</summary>
    int DropCapabilities(ulong keepInheritable, int lastCapability);
    /// <summary>Replaces the process image; returns only on failure.</summary>
    int ExecveAt(int dirfd, string path, string[] argv, string[] envp, int flags);
    uint EffectiveUid();
    /// <summary>This thread creates files as uid:gid from now on, capabilities kept (Host/ThreadCredentials).</summary>
    int CreateFilesAs(uint uid, uint gid);
    /// <summary>_exit(2): leaves without running anything managed (nothing of the host may be reachable any more).</summary>
    void Exit(int status);
}

/// <summary>Throwing helpers over the -errno convention.</summary>
internal static class SyscallResult
{
    public static int Check(int result, string call, string path) =>
        result >= 0 ? result : throw new SyscallException(call, path, -result);
}

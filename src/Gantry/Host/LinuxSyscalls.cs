using System.Runtime.InteropServices;

namespace Gantry.Host;

/// <summary>The real seam: thin calls into libc, errno turned into -errno.</summary>
internal sealed class LinuxSyscalls : ISyscalls
{
    public static LinuxSyscalls Instance { get; } = new();

    static int Err() => -Marshal.GetLastPInvokeError();
    static int R(int r) => r >= 0 ? r : Err();
    static int R(long r) => r >= 0 ? checked((int)r) : Err();

    public int OpenAt(int dirfd, string path, int flags, int mode = 0) => R(Interop.OpenAt(dirfd, path, flags | O.CloExec, mode));

    public unsafe int OpenAt2(int dirfd, string path, int flags, int mode, ulong resolve)
    {
        var how = new Interop.OpenHow { Flags = (ulong)(uint)(flags | O.CloExec), Mode = (ulong)mode, Resolve = resolve };
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            return R(Interop.Syscall4(Interop.SysOpenat2, dirfd, p, &how, (nuint)sizeof(Interop.OpenHow)));
    }

    public int Close(int fd) => R(Interop.Close(fd));

    public unsafe int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer) return R((long)Interop.Read(fd, p, (nuint)buffer.Length));
    }

    public unsafe int Write(int fd, ReadOnlySpan<byte> data)
    {
        var done = 0;
        fixed (byte* p = data)
        {
            while (done < data.Length)
            {
                var n = Interop.Write(fd, p + done, (nuint)(data.Length - done));
                if (n < 0) { var e = Err(); if (e == -Errno.EINTR) continue; return e; }
                done += (int)n;
            }
        }
        return done;
    }

    public int MkdirAt(int dirfd, string name, int mode) => R(Interop.MkdirAt(dirfd, name, mode));
    public int SymlinkAt(string target, int dirfd, string name) => R(Interop.SymlinkAt(target, dirfd, name));
    public int LinkAt(int oldDirfd, string oldPath, int newDirfd, string newName, int flags) => R(Interop.LinkAt(oldDirfd, oldPath, newDirfd, newName, flags));
    public int RenameAt(int oldDirfd, string oldName, int newDirfd, string newName) => R(Interop.RenameAt(oldDirfd, oldName, newDirfd, newName));
    public int UnlinkAt(int dirfd, string name, int flags) => R(Interop.UnlinkAt(dirfd, name, flags));

    public unsafe int ReadLinkAt(int dirfd, string path, out string target)
    {
        target = "";
        // On the stack: a fresh 4 KiB heap array per call is a page fault each time (many links per container).
        const int PathMax = 4096;
        var p = stackalloc byte[PathMax];
        var n = Interop.ReadLinkAt(dirfd, path, p, PathMax);
        if (n < 0) return Err();
        target = System.Text.Encoding.UTF8.GetString(p, (int)n);
        return (int)n;
    }

    public int Statx(int dirfd, string path, int flags, out FileStatus status)
    {
        var r = Interop.StatxCall(dirfd, path, flags, Interop.StatxBasicStats, out var s);
        status = FileStatus.From(s);
        return R(r);
    }

    public unsafe int FsType(int fd, out long type)
    {
        var buffer = stackalloc byte[256];
        var r = Interop.FStatFs(fd, buffer);
        type = r == 0 ? *(long*)buffer : 0;
        return R(r);
    }

    public int Chmod(string path, int mode) => R(Interop.Chmod(path, mode));
    public int FChmod(int fd, int mode) => R(Interop.FChmod(fd, mode));
    public int FChownAt(int dirfd, string path, uint uid, uint gid, int flags) => R(Interop.FChownAt(dirfd, path, uid, gid, flags));

    public int ListDirectory(int dirfd, out IReadOnlyList<string> names)
    {
        // Reading through the fd's magic link lists exactly the directory the fd pins.
        try
        {
            names = new DirectoryInfo($"/proc/self/fd/{dirfd}").EnumerateFileSystemInfos().Select(i => i.Name).ToList();
            return 0;
        }
        catch (DirectoryNotFoundException) { names = []; return -Errno.ENOENT; }
        catch (UnauthorizedAccessException) { names = []; return -Errno.EACCES; }
        catch (IOException e) { names = []; return -(e.HResult > 0 ? e.HResult : Errno.EINVAL); }
    }

    public int Mount(string? source, string target, string? fsType, ulong flags, string? data) => R(Interop.Mount(source, target, fsType, flags, data));
    public int Umount(string target, int flags) => R(Interop.Umount2(target, flags));
    public int Unshare(int flags) => R(Interop.Unshare(flags));

    public unsafe int CloneMount(int fd)
    {
        byte empty = 0;
        return R(Interop.SyscallOpenTree(Interop.SysOpenTree, fd, &empty, Interop.OpenTreeClone | (uint)O.CloExec | At.EmptyPath));
    }

    public unsafe int MoveMount(int fromFd, int toFd)
    {
        byte empty = 0;
        return R(Interop.SyscallMoveMount(Interop.SysMoveMount, fromFd, &empty, toFd, &empty, Interop.MoveMountFromEmptyPath | Interop.MoveMountToEmptyPath));
    }
    public int SetNs(int fd, int nsType) => R(Interop.SetNs(fd, nsType));
    public unsafe int SetSeccompFilter(ulong[] program)
    {
        fixed (ulong* filter = program)
        {
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            var fprog = stackalloc nuint[2];
            fprog[0] = (nuint)program.Length;
            fprog[1] = (nuint)filter;
            return Interop.Prctl(Pr.SetSeccomp, Pr.SeccompModeFilter, (nuint)fprog, 0, 0) == 0 ? 0 : Err();
        }
    }

    public int SetResourceLimit(int resource, ulong value) => R(Interop.SetRLimit(resource, new Interop.RLimit { Current = value, Maximum = value }));

    public unsafe int PivotRoot(string newRoot, string putOld)
    {
        var a = System.Text.Encoding.UTF8.GetBytes(newRoot + "\0");
        var b = System.Text.Encoding.UTF8.GetBytes(putOld + "\0");
        fixed (byte* pa = a) fixed (byte* pb = b) return R(Interop.Syscall2(Interop.SysPivotRoot, pa, pb));
    }

    public int Chroot(string path) => R(Interop.Chroot(path));
    public int Chdir(string path) => R(Interop.Chdir(path));
    public int FChdir(int fd) => R(Interop.FChdir(fd));

    public unsafe int DropCapabilities(ulong keepInheritable, int lastCapability)
    {
        var header = new Interop.CapHeader { Version = Interop.CapVersion3, Pid = 0 };
        var data = stackalloc Interop.CapData[2];
        if (Interop.CapGet(&header, data) != 0) return Err();
        // Inheritable first: it may only grow within the bounding set, which is emptied next.
        data[0].Inheritable = (uint)keepInheritable & data[0].Permitted;
        data[1].Inheritable = (uint)(keepInheritable >> 32) & data[1].Permitted;
        if (Interop.CapSet(&header, data) != 0) return Err();
        Interop.Prctl(Pr.CapAmbient, Pr.CapAmbientClearAll, 0, 0, 0); // EINVAL before 4.3: nothing to clear then
        for (var cap = 0; cap <= lastCapability; cap++)
            if (Interop.Prctl(Pr.CapBsetDrop, (nuint)cap, 0, 0, 0) != 0 && Err() != -Errno.EINVAL) return Err();
        return Interop.Prctl(Pr.SetNoNewPrivs, 1, 0, 0, 0) == 0 ? 0 : Err();
    }

    /// <summary>The highest capability number this kernel knows; read before leaving the host's /proc behind.</summary>
    public static int LastCapability()
    {
        try { return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return 63; }
    }

    public int ExecveAt(int dirfd, string path, string[] argv, string[] envp, int flags)
    {
        string?[] a = [.. argv, null];
        string?[] e = [.. envp, null];
        return R(Interop.ExecveAt(dirfd, path, a, e, flags));
    }

    public uint EffectiveUid() => Interop.GetEuid();
    public int CreateFilesAs(uint uid, uint gid) => ThreadCredentials.CreateFilesAs(uid, gid);
    public void Exit(int status) => Interop.Exit(status);
}

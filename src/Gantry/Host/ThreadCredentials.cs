using System.Runtime.InteropServices;

namespace Gantry.Host;

// What a thread of a root process does to act as a user-namespaced container's root on the container's files: the
// files it creates must belong to the container's root (the host uid and gid its uid 0 maps to), and a filesystem
// mounted inside the container's user namespace (runc's /dev tmpfs) refuses to create a file for an owner its
// namespace does not map (EOVERFLOW, "Value too large for defined data type"). Per thread: the raw calls of
// Interop.Credentials.
internal static class ThreadCredentials
{
    const int PrSetSecurebits = 28, PrGetSecurebits = 27, SecbitNoSetuidFixup = 1 << 2;

    /// <summary>
    /// Makes this thread create files as uid:gid while keeping its capabilities (SECBIT_NO_SETUID_FIXUP: a change of
    /// the filesystem uid away from 0 would otherwise drop the file capabilities); its other ids stay root's.
    /// Returns 0 or -errno.
    /// </summary>
    public static int CreateFilesAs(uint uid, uint gid)
    {
        var bits = Interop.Prctl(PrGetSecurebits, 0, 0, 0, 0);
        if (bits < 0) return -Marshal.GetLastPInvokeError();
        if (Interop.Prctl(PrSetSecurebits, (nuint)(bits | SecbitNoSetuidFixup), 0, 0, 0) != 0) return -Marshal.GetLastPInvokeError();
        // setfsuid/setfsgid return the previous id and never fail visibly: read the new one back to check.
        Interop.SyscallIds(Interop.SysSetfsgid, gid, 0, 0);
        Interop.SyscallIds(Interop.SysSetfsuid, uid, 0, 0);
        var fsgid = (uint)Interop.SyscallIds(Interop.SysSetfsgid, unchecked((nuint)uint.MaxValue), 0, 0);
        var fsuid = (uint)Interop.SyscallIds(Interop.SysSetfsuid, unchecked((nuint)uint.MaxValue), 0, 0);
        return fsuid == uid && fsgid == gid ? 0 : -Errno.EPERM;
    }

    /// <summary>Becomes uid:gid on this thread (real, effective, saved, filesystem ids; the one group gid). What it
    /// execs then runs as that user with no capabilities. Returns 0 or -errno.</summary>
    public static unsafe int Become(uint uid, uint gid)
    {
        var groups = stackalloc uint[1] { gid };
        if (Interop.SyscallGroups(Interop.SysSetgroups, 1, groups) != 0) return -Marshal.GetLastPInvokeError();
        if (Interop.SyscallIds(Interop.SysSetresgid, gid, gid, gid) != 0) return -Marshal.GetLastPInvokeError();
        return Interop.SyscallIds(Interop.SysSetresuid, uid, uid, uid) == 0 ? 0 : -Marshal.GetLastPInvokeError();
    }
}

namespace Gantry.Host;

// Questions about a namespace descriptor (an open /proc/PID/ns/* file), asked with the nsfs ioctls.
internal static class NamespaceFd
{
    const nuint NsGetUserns = 0xb701, NsGetNstype = 0xb703;

    /// <summary>True when <paramref name="ns"/> is a mount namespace.</summary>
    public static bool IsMountNamespace(OwnedFd ns) => Interop.IoctlCall(ns.Value, NsGetNstype, 0) == CloneFlags.NewNs;

    /// <summary>True when <paramref name="ns"/> is owned by this process's own user namespace; false when by
    /// another one, or when the kernel cannot say.</summary>
    public static bool IsOwnedByOurUserNamespace(OwnedFd ns)
    {
        var owner = Interop.IoctlCall(ns.Value, NsGetUserns, 0);
        if (owner < 0) return false;
        using var o = new OwnedFd(LinuxSyscalls.Instance, owner);
        return LinuxSyscalls.Instance.Statx(o.Value, "", At.EmptyPath, out var theirs) >= 0 &&
               LinuxSyscalls.Instance.Statx(At.FdCwd, "/proc/self/ns/user", 0, out var ours) >= 0 && theirs.SameFileAs(ours);
    }
}

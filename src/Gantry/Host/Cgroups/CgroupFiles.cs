namespace Gantry.Host.Cgroups;

/// <summary>Opens a cgroup's directory or one of its files through a resolver confined to the hierarchy's mount,
/// so a cgroup path can name nothing outside it.</summary>
internal static class CgroupFiles
{
    public static OwnedFd Open(ISyscalls sys, DeviceCgroupLocation location, string name, int flags)
    {
        var relative = name.Length == 0 ? location.RelativePath : $"{location.RelativePath}/{name}";
        var display = name.Length == 0 ? location.HostPath : $"{location.HostPath}/{name}";
        ContainerRoot mount;
        try { mount = ContainerRoot.Open(sys, location.MountPoint); }
        catch (SyscallException e) { throw new DeviceCgroupException($"cannot open the cgroup mount {location.MountPoint}: {Errno.Describe(e.Errno)}", e); }
        using (mount)
        {
            var fd = mount.TryOpenRaw(relative.Length == 0 ? "." : relative, flags);
            if (fd < 0) throw new DeviceCgroupException($"cannot open {display}: {Errno.Describe(-fd)}");
            return new OwnedFd(sys, fd);
        }
    }
}

using Gantry.Edits;
using Gantry.Host;

namespace Gantry.Cdi.Generate;

// Turns discovered host paths into container edits: device nodes with what lstat says, read-only mounts.
internal static class EditsFactory
{
    public static readonly string[] ReadOnlyMountOptions = ["ro", "nosuid", "nodev", "rbind", "rprivate"];
    public static readonly string[] IpcMountOptions = ["nosuid", "nodev", "rbind", "rprivate", "noexec"];

    public static DeviceNode Node(string containerPath, string hostPath)
    {
        var node = new DeviceNode { Path = containerPath, HostPath = hostPath == containerPath ? null : hostPath };
        if (FileStatus.TryLstat(hostPath, out var st) && st.IsCharDevice)
        {
            node.Major = st.RdevMajor;
            node.Minor = st.RdevMinor;
            node.FileMode = st.Permissions == 0 ? null : (uint)st.Permissions;
            node.Permissions = "rwm";
            node.Gid = st.Gid == 0 ? null : st.Gid;
        }
        return node;
    }

    /// <summary>A group that owns a device node the container user may not otherwise open.</summary>
    public static uint? AdditionalGid(string hostPath) =>
        FileStatus.TryLstat(hostPath, out var st) && st.IsCharDevice && st.Gid != 0 && (st.Permissions & 0b110) != 0b110 ? st.Gid : null;

    public static Mount ReadOnly(string hostPath, string containerPath) =>
        new() { HostPath = hostPath, ContainerPath = containerPath, Options = [.. ReadOnlyMountOptions] };

    public static Mount Ipc(string hostPath, string containerPath) =>
        new() { HostPath = hostPath, ContainerPath = containerPath, Options = [.. IpcMountOptions] };
}

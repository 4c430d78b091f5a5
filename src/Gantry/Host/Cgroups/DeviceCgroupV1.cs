using System.Text;

namespace Gantry.Host.Cgroups;

/// <summary>cgroup v1: one rule per write(2) to devices.allow (the kernel parses one rule per write), the file
/// opened with O_NOFOLLOW inside the controller's mount.</summary>
internal static class DeviceCgroupV1
{
    public static void Allow(ISyscalls sys, DeviceCgroupLocation location, IReadOnlyList<DeviceRule> rules)
    {
        using var file = CgroupFiles.Open(sys, location, "devices.allow", O.WrOnly | O.NoFollow);
        foreach (var rule in rules)
        {
            var text = DeviceRules.V1Text(rule);
            var r = sys.Write(file.Value, Encoding.ASCII.GetBytes(text + "\n"));
            if (r < 0) throw new DeviceCgroupException($"cannot write '{text}' to {location.HostPath}/devices.allow: {Errno.Describe(-r)}");
        }
    }
}

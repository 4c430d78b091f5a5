namespace Gantry.Host.Cgroups;

/// <summary>One device-cgroup rule: a character ('c') or block ('b') device, a major and minor
/// (<see cref="DeviceRule.Any"/> for "*"), and the access letters ("rw", "rwm").</summary>
internal readonly record struct DeviceRule(char Type, uint Major, uint Minor, string Access)
{
    public const uint Any = uint.MaxValue;
}

/// <summary>Allows devices in the device cgroup of a running process (the container's init), on cgroup v1
/// (devices.allow) or v2 (a BPF_PROG_TYPE_CGROUP_DEVICE program that keeps the engine's rules and adds ours).
/// Roots are parameters so tests can point them at a directory.</summary>
internal static class DeviceCgroup
{
    /// <summary>Adds <paramref name="rules"/> to the device cgroup of <paramref name="pid"/>. Throws a
    /// <see cref="IOException"/> (a <see cref="SyscallException"/> for a failed call) with a clear message
    /// when the cgroup cannot be found or changed.</summary>
    public static void Allow(int pid, IReadOnlyList<DeviceRule> rules, string procRoot = "/proc", string cgroupRoot = "/sys/fs/cgroup")
        => throw new NotImplementedException("device cgroup support is being written");
}

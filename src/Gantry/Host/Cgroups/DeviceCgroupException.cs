namespace Gantry.Host.Cgroups;

/// <summary>The device cgroup of a process could not be found or changed; the message says which file or
/// cgroup and why.</summary>
internal sealed class DeviceCgroupException : IOException
{
    public DeviceCgroupException(string message) : base(message) { }
    public DeviceCgroupException(string message, Exception inner) : base(message, inner) { }
}

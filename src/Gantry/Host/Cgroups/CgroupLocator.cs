namespace Gantry.Host.Cgroups;

internal enum CgroupVersion { V1 = 1, V2 = 2 }

/// <summary>Where a process's device cgroup lives: the mount of the hierarchy (a host path) and the cgroup's
/// path below that mount, already checked to hold no ".." component.</summary>
internal sealed record DeviceCgroupLocation(CgroupVersion Version, string MountPoint, string RelativePath)
{
    public string HostPath => RelativePath.Length == 0 ? MountPoint : $"{MountPoint.TrimEnd('/')}/{RelativePath}";
}

/// <summary>
/// Finds the device cgroup of a process from its /proc/PID/cgroup entries and the mount table, as
/// libnvidia-container does: a v1 "devices" entry means v1 (also on a hybrid host, where cgroup2 is mounted
/// beside the v1 controllers), else the unified "0::" entry means v2. The hierarchy's mount is the first whose
/// root contains the cgroup's path (v1: type cgroup with the devices option; v2: type cgroup2).
/// </summary>
internal static class CgroupLocator
{
    public static DeviceCgroupLocation Locate(IReadOnlyList<CgroupMembership> memberships, IReadOnlyList<MountEntry> mounts,
        string cgroupSource, string mountSource)
    {
        var v1 = memberships.FirstOrDefault(m => m.Has("devices"));
        var membership = v1 ?? memberships.FirstOrDefault(m => m.IsUnified)
            ?? throw new DeviceCgroupException($"no devices or unified cgroup entry in {cgroupSource}");
        var version = v1 is null ? CgroupVersion.V2 : CgroupVersion.V1;
        var path = membership.Path;
        if (!path.StartsWith('/')) throw new DeviceCgroupException($"cgroup path '{path}' in {cgroupSource} is not absolute");
        // The kernel shows a cgroup outside the reader's cgroup namespace as "/../..": not ours to change.
        if (path.Split('/').Contains("..")) throw new DeviceCgroupException(
            $"cgroup path '{path}' in {cgroupSource} lies outside this process's cgroup namespace");

        var candidates = mounts.Where(m => version == CgroupVersion.V1
            ? m.FsType == "cgroup" && (m.SuperOptions.Contains("devices") || Path.GetFileName(m.MountPoint) == "devices")
            : m.FsType == "cgroup2").ToList();
        var kind = version == CgroupVersion.V1 ? "cgroup v1 devices" : "cgroup2";
        if (candidates.Count == 0) throw new DeviceCgroupException($"no {kind} mount in {mountSource}");
        foreach (var mount in candidates)
        {
            if (mount.Root.StartsWith("/..", StringComparison.Ordinal)) throw new DeviceCgroupException(
                $"the {kind} mount at {mount.MountPoint} in {mountSource} has a relative root '{mount.Root}'");
            if (Below(path, mount.Root) is { } relative)
                return new DeviceCgroupLocation(version, mount.MountPoint, relative);
        }
        throw new DeviceCgroupException($"cgroup {path} ({cgroupSource}) is not below any {kind} mount in {mountSource}");
    }

    /// <summary>path relative to root ("" for root itself, no leading slash), or null when it is not below root.</summary>
    static string? Below(string path, string root)
    {
        var trimmed = path.Trim('/');
        var r = root.Trim('/');
        if (r.Length == 0) return trimmed;
        if (trimmed == r) return "";
        return trimmed.StartsWith(r + "/", StringComparison.Ordinal) ? trimmed[(r.Length + 1)..] : null;
    }
}

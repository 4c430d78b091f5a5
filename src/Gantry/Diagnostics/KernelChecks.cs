using Gantry.Host;

namespace Gantry.Diagnostics;

// What Gantry's confinement of the host ldconfig (LdconfigSandbox) and of container paths (Host/ContainerRoot) needs
// from the kernel, read from procfs: namespaces and seccomp filters (required), openat2 and the new mount API
// (each has a slower fallback), and user namespaces where the engine is rootless.
internal static class KernelChecks
{
    static readonly string[] Namespaces = ["mnt", "uts", "ipc", "net", "pid"];
    const string NewKernel = "apt-get install linux-image-amd64 && reboot";

    public static IEnumerable<Finding> Run(DoctorFacts facts)
    {
        var roots = facts.Setup.Roots;
        var release = Read(roots.InProc("sys/kernel/osrelease"))?.Trim();
        var version = ParseVersion(release);

        var missing = Namespaces.Where(n => !FileStatus.TryLstat(roots.InProc("self/ns/" + n), out _)).ToList();
        yield return missing.Count == 0
            ? Finding.Ok("kernel-namespaces", $"mount, UTS, IPC, network and PID namespaces are available")
            : Finding.Problem("kernel-namespaces", $"the kernel has no {string.Join(", ", missing)} namespace(s)",
                "the update-ldcache hook runs the host ldconfig in new mount, UTS, IPC, network and PID namespaces, so every container on the CDI and jit-cdi routes fails to start.",
                $"{NewKernel}  # a kernel built with CONFIG_NAMESPACES and the missing namespaces");

        var status = Read(roots.InProc("self/status")) ?? "";
        var seccomp = status.Split('\n').Any(l => l.StartsWith("Seccomp:", StringComparison.Ordinal)) &&
                      (Read(roots.InProc("sys/kernel/seccomp/actions_avail")) ?? "").Contains("allow", StringComparison.Ordinal);
        yield return seccomp
            ? Finding.Ok("kernel-seccomp", "seccomp filters are available")
            : Finding.Problem("kernel-seccomp", "the kernel has no seccomp filter support",
                "the host ldconfig runs under a seccomp allow-list, which cannot be installed, so the update-ldcache hook fails.",
                $"{NewKernel}  # a kernel built with CONFIG_SECCOMP_FILTER=y");

        if (version is null)
        {
            yield return Finding.Warning("kernel-version", $"cannot read the kernel version from {roots.InProc("sys/kernel/osrelease")}",
                "without it doctor cannot tell whether openat2 and the new mount API are there.", $"mount -t proc proc {roots.ProcRoot}");
        }
        else
        {
            yield return version >= new Version(5, 6)
                ? Finding.Ok("kernel-openat2", $"kernel {release} has openat2 (RESOLVE_IN_ROOT)")
                : Finding.Warning("kernel-openat2", $"kernel {release} has no openat2",
                    "paths inside container roots are resolved one component at a time instead of by openat2(RESOLVE_IN_ROOT): as safe, but slower.",
                    $"{NewKernel}  # 5.6 or later");
            yield return version >= new Version(5, 2)
                ? Finding.Ok("kernel-mount-api", $"kernel {release} has open_tree and move_mount")
                : Finding.Warning("kernel-mount-api", $"kernel {release} has no open_tree/move_mount",
                    "ldconfig is bound into its sandbox by a re-executed child instead of detached mounts, which costs a few milliseconds per container.",
                    $"{NewKernel}  # 5.2 or later");
        }

        if (facts.Rootless is not null)
        {
            var max = Read(roots.InProc("sys/user/max_user_namespaces"))?.Trim();
            yield return max is null || (long.TryParse(max, out var n) && n > 0)
                ? Finding.Ok("kernel-userns", "user namespaces are enabled for the rootless engine")
                : Finding.Problem("kernel-userns", "user.max_user_namespaces is 0",
                    "a rootless engine runs in a user namespace, which the kernel refuses to create.",
                    "sysctl -w user.max_user_namespaces=28633");
        }
    }

    internal static Version? ParseVersion(string? release)
    {
        if (release is null) return null;
        var parts = release.Split('.', '-', '+');
        return parts.Length >= 2 && int.TryParse(parts[0], out var major) && int.TryParse(parts[1], out var minor) ? new Version(major, minor) : null;
    }

    static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

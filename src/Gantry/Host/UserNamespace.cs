namespace Gantry.Host;

// Whether this process runs in the initial user namespace (a rootful engine) or in one of its own (a rootless
// engine: rootlesskit, rootless Podman), where the host's root-owned files (the device cgroup) are out of reach.
internal static class UserNamespace
{
    /// <summary>True unless /proc/self/uid_map maps fewer than all 2^32 ids from 0 to 0 (the initial namespace's map).</summary>
    public static bool IsInitial(string procRoot = "/proc")
    {
        try
        {
            var fields = File.ReadAllText(Path.Combine(procRoot, "self/uid_map")).Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return fields is ["0", "0", "4294967295"];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return true; }
    }
}

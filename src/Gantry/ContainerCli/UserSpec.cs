namespace Gantry.ContainerCli;

// --user=UID[:GID]: numbers or names (from /etc/passwd and /etc/group); a missing GID is the user's primary group.
internal static class UserSpec
{
    public static (uint Uid, uint Gid) Parse(string spec)
    {
        var parts = spec.Split(':', 2);
        uint? primaryGid = null;
        var uid = Number(parts[0]) ?? Lookup("/etc/passwd", parts[0], out primaryGid)
                  ?? throw Fail(spec, $"no user '{parts[0]}' in /etc/passwd");
        if (parts.Length == 2)
        {
            var gid = Number(parts[1]) ?? Lookup("/etc/group", parts[1], out _) ?? throw Fail(spec, $"no group '{parts[1]}' in /etc/group");
            return (uid, gid);
        }
        if (primaryGid is null && Number(parts[0]) is not null) LookupById("/etc/passwd", uid, out primaryGid);
        return (uid, primaryGid ?? throw Fail(spec, $"user {uid} has no entry in /etc/passwd to take its group from; give UID:GID"));
    }

    /// <summary>The effective uid and gid of this process (what -u without an argument means).</summary>
    public static (uint Uid, uint Gid) Current()
    {
        var uid = Host.Interop.GetEuid();
        uint gid = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("Gid:", StringComparison.Ordinal))
            {
                var f = line[4..].Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (f.Length > 1) uint.TryParse(f[1], out gid);
            }
        return (uid, gid);
    }

    static ContainerCliException Fail(string spec, string why) => new($"input error: parse user/group failed: {spec}: {why}");

    static uint? Number(string s) => s.Length > 0 && s.All(char.IsAsciiDigit) && uint.TryParse(s, out var n) && n != uint.MaxValue ? n : null;

    static uint? Lookup(string file, string name, out uint? gid)
    {
        gid = null;
        if (!File.Exists(file)) return null;
        foreach (var line in File.ReadLines(file))
        {
            var f = line.Split(':');
            if (f.Length < 4 || f[0] != name || !uint.TryParse(f[2], out var id)) continue;
            if (uint.TryParse(f[3], out var g)) gid = g;
            return id;
        }
        return null;
    }

    static void LookupById(string file, uint uid, out uint? gid)
    {
        gid = null;
        if (!File.Exists(file)) return;
        foreach (var line in File.ReadLines(file))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && uint.TryParse(f[2], out var id) && id == uid && uint.TryParse(f[3], out var g)) { gid = g; return; }
        }
    }
}

namespace Gantry.Host.Cgroups;

/// <summary>One line of /proc/PID/cgroup: "hierarchy-id:controller,list:/path". Cgroup v2 has an empty
/// controller list ("0::/path"); a named v1 hierarchy lists "name=systemd".</summary>
internal sealed record CgroupMembership(string Hierarchy, IReadOnlyList<string> Controllers, string Path)
{
    public bool IsUnified => Controllers.Count == 0;
    public bool Has(string controller) => Controllers.Contains(controller);
}

/// <summary>Parses the text of /proc/PID/cgroup. The path is the rest of the line after the second colon, so
/// cgroup names with colons or spaces survive.</summary>
internal static class ProcCgroupFile
{
    public static IReadOnlyList<CgroupMembership> Parse(string text, string source)
    {
        var entries = new List<CgroupMembership>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            var first = line.IndexOf(':');
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0) throw new DeviceCgroupException($"malformed line in {source}: '{line}'");
            var controllers = line[(first + 1)..second];
            entries.Add(new CgroupMembership(line[..first],
                controllers.Length == 0 ? [] : controllers.Split(','), line[(second + 1)..]));
        }
        return entries;
    }
}

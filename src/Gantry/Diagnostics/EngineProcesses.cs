namespace Gantry.Diagnostics;

/// <summary>A process of an engine doctor cares about: its name (comm), owner and PATH.</summary>
internal sealed record EngineProcess(int Pid, string Name, int Uid, string? PathVariable);

// The engine daemons running under a proc root (dockerd, rootlesskit, containerd): only what doctor needs.
internal static class EngineProcesses
{
    static readonly string[] Wanted = ["dockerd", "rootlesskit", "containerd"];

    public static List<EngineProcess> Read(string procRoot)
    {
        var found = new List<EngineProcess>();
        IEnumerable<string> dirs;
        try { dirs = Directory.EnumerateDirectories(procRoot).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return found; }
        foreach (var dir in dirs)
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var name = ReadText(Path.Combine(dir, "comm"))?.Trim();
            if (name is null || !Wanted.Contains(name)) continue;
            var uid = -1;
            foreach (var line in (ReadText(Path.Combine(dir, "status")) ?? "").Split('\n'))
                if (line.StartsWith("Uid:", StringComparison.Ordinal) &&
                    int.TryParse(line[4..].Trim().Split('\t', ' ')[0], out var u)) uid = u;
            var path = (ReadText(Path.Combine(dir, "environ")) ?? "").Split('\0')
                .FirstOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..];
            found.Add(new EngineProcess(pid, name, uid, path));
        }
        return found.OrderBy(p => p.Pid).ToList();
    }

    static string? ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

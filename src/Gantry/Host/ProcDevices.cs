using System.Diagnostics.CodeAnalysis;

namespace Gantry.Host;

// /proc/devices under a host's proc root: the character-device majors by driver name ("nvidia-uvm" → 510).
internal static class ProcDevices
{
    public static bool TryRead(HostRoots roots, [NotNullWhen(true)] out Dictionary<string, uint>? majors)
    {
        majors = null;
        var path = roots.InProc("devices");
        if (!File.Exists(path)) return false;
        majors = Parse(File.ReadLines(path));
        return true;
    }

    /// <summary>Only the "Character devices:" section; the first major per name wins.</summary>
    public static Dictionary<string, uint> Parse(IEnumerable<string> lines)
    {
        var d = new Dictionary<string, uint>(StringComparer.Ordinal);
        var inChar = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.EndsWith(':')) { inChar = line == "Character devices:"; continue; }
            if (!inChar || line.Length == 0) continue;
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && uint.TryParse(parts[0], out var major)) d.TryAdd(parts[1], major);
        }
        return d;
    }
}

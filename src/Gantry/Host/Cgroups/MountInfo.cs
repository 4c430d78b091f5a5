using System.Text;

namespace Gantry.Host.Cgroups;

/// <summary>The parts of a /proc/PID/mountinfo line that locate a cgroup hierarchy: the root of the mount
/// inside its filesystem, where it is mounted, the filesystem type and its super options ("rw,devices").</summary>
internal sealed record MountEntry(string Root, string MountPoint, string FsType, IReadOnlyList<string> SuperOptions);

/// <summary>Parses mountinfo (proc(5)): "id parent major:minor root mountpoint options [optional...] - fstype
/// source superoptions". The optional fields vary, so the fields after the lone "-" are found by position.</summary>
internal static class MountInfo
{
    public static IReadOnlyList<MountEntry> Parse(string text, string source)
    {
        var entries = new List<MountEntry>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            var fields = line.Split(' ');
            var separator = fields.Length < 10 ? -1 : Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 3 >= fields.Length)
                throw new DeviceCgroupException($"malformed line in {source}: '{line}'");
            entries.Add(new MountEntry(Unescape(fields[3]), Unescape(fields[4]), Unescape(fields[separator + 1]), fields[separator + 3].Split(',')));
        }
        return entries;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes.</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var bytes = new List<byte>(field.Length);
        var raw = Encoding.UTF8.GetBytes(field);
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && IsOctal(raw, i + 1))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else bytes.Add(raw[i]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    static bool IsOctal(byte[] raw, int at) =>
        at + 2 < raw.Length && raw[at] is >= (byte)'0' and <= (byte)'3' && raw[at + 1] is >= (byte)'0' and <= (byte)'7' && raw[at + 2] is >= (byte)'0' and <= (byte)'7';
}

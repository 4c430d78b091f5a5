using System.Text;
using Gantry.Host;

namespace Gantry.Discovery.Inventory;

/// <summary>
/// The cheap, kernel-visible facts that NVML's answers depend on, as one text: the loaded driver's version
/// (/proc/driver/nvidia/version), the GPUs the driver sees (/proc/driver/nvidia/gpus/*/information, UUIDs
/// included), the MIG capability entries (a GPU or compute instance made or destroyed adds or removes one), the
/// device nodes with their numbers and identities, the driver root's ld.so.cache and the NVML library file, and
/// whatever the caller adds (its config file). Equal text, same NVML answers; any difference means ask NVML again.
/// Reading it is a few dozen stat and small read calls, no NVML.
/// </summary>
internal static class HostSignals
{
    public static string Read(HostRoots roots, string nvmlLibrary, string? extra)
    {
        var text = new StringBuilder();
        text.Append("roots ").Append(roots.DriverRoot).Append('|').Append(roots.DevRoot).Append('|').Append(roots.ProcRoot).Append('\n');
        text.Append("version ").Append(ReadSmall(roots.InProc("driver/nvidia/version")) ?? "-").Append('\n');
        foreach (var gpu in Sorted(Directories(roots.InProc("driver/nvidia/gpus"))))
            text.Append("gpu ").Append(Path.GetFileName(gpu)).Append(' ').Append(ReadSmall(Path.Combine(gpu, "information")) ?? "-").Append('\n');
        AppendTree(text, "cap", roots.InProc("driver/nvidia/capabilities"), depth: 6);
        foreach (var node in Sorted(Entries(roots.InDevRoot("/dev"), "nvidia*")))
            AppendStamp(text, "dev", node);
        foreach (var dir in new[] { "/dev/nvidia-caps", "/dev/nvidia-caps-imex-channels" })
            foreach (var node in Sorted(Entries(roots.InDevRoot(dir), "*")))
                AppendStamp(text, "dev", node);
        AppendStamp(text, "ldcache", roots.InDriverRoot("/etc/ld.so.cache"));
        AppendStamp(text, "nvml", nvmlLibrary);
        if (FileStamp.TryStat(nvmlLibrary, out var target)) text.Append("nvml-target ").Append(target).Append('\n');
        if (extra is not null) text.Append("extra ").Append(extra.Replace('\n', ' ')).Append('\n');
        return text.ToString();
    }

    static void AppendStamp(StringBuilder text, string what, string path)
    {
        text.Append(what).Append(' ').Append(path).Append(' ');
        if (FileStamp.TryLstat(path, out var s)) text.Append(s).Append(':').Append(Convert.ToString(s.Mode, 8)).Append(':').Append(RdevOf(path));
        else text.Append('-');
        text.Append('\n');
    }

    static string RdevOf(string path) => FileStatus.TryLstat(path, out var s) ? $"{s.RdevMajor}.{s.RdevMinor}" : "-";

    // Names only: procfs reports no useful times, and an entry appears or goes with each MIG instance.
    static void AppendTree(StringBuilder text, string what, string dir, int depth)
    {
        if (depth == 0) return;
        foreach (var entry in Sorted(Entries(dir, "*")))
        {
            text.Append(what).Append(' ').Append(entry).Append('\n');
            if (FileStatus.TryLstat(entry, out var s) && s.IsDirectory) AppendTree(text, what, entry, depth - 1);
        }
    }

    static string? ReadSmall(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            var buffer = new byte[4096];
            var n = f.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, n).Replace('\n', ';');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    static IEnumerable<string> Directories(string dir)
    {
        try { return Directory.Exists(dir) ? Directory.EnumerateDirectories(dir).ToList() : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    static IEnumerable<string> Entries(string dir, string pattern)
    {
        try { return Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, pattern).ToList() : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    static IEnumerable<string> Sorted(IEnumerable<string> paths) => paths.Order(StringComparer.Ordinal);
}

using Gantry.Common;

namespace Gantry.Discovery.Tegra;

internal enum CsvEntryKind { Dev, Dir, Lib, Sym }

/// <summary>One line of a Tegra mount spec: what kind of thing, and its path on the host (under the driver root).</summary>
internal sealed record CsvEntry(CsvEntryKind Kind, string Path);

// The CSV files in /etc/nvidia-container-runtime/host-files-for-container.d that list what a Jetson container
// gets (toolkit.md §4.4 csv): "<type>, <path>" lines, type dev, dir, lib or sym. Lines that are not of this
// form are skipped; an empty file is skipped with a warning.
internal static class CsvMountSpecs
{
    public static readonly string[] DefaultFiles = ["devices.csv", "drivers.csv", "l4t.csv"];

    /// <summary>The CSV files of a directory: devices.csv, drivers.csv and l4t.csv where present, or every *.csv with allFiles.</summary>
    public static List<string> Files(string directory, bool allFiles)
    {
        if (!Directory.Exists(directory)) return new();
        if (allFiles)
            return Directory.EnumerateFiles(directory, "*.csv").Order(StringComparer.Ordinal).ToList();
        return DefaultFiles.Select(f => Path.Combine(directory, f)).Where(File.Exists).ToList();
    }

    public static List<CsvEntry> Load(IEnumerable<string> files, Log log)
    {
        var entries = new List<CsvEntry>();
        foreach (var file in files)
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new GantryException($"cannot read the CSV mount spec {file}: {e.Message}", e);
            }
            var parsed = Parse(text);
            if (parsed.Count == 0) { log.Warning($"Skipping {file}: it lists no mount specs"); continue; }
            entries.AddRange(parsed);
        }
        return entries;
    }

    public static List<CsvEntry> Parse(string text)
    {
        var entries = new List<CsvEntry>();
        foreach (var raw in text.Split('\n'))
        {
            var comma = raw.IndexOf(',');
            if (comma < 0) continue;
            var path = raw[(comma + 1)..].Trim();
            CsvEntryKind? kind = raw[..comma].Trim() switch
            {
                "dev" => CsvEntryKind.Dev, "dir" => CsvEntryKind.Dir, "lib" => CsvEntryKind.Lib, "sym" => CsvEntryKind.Sym, _ => null,
            };
            if (kind is null || !path.StartsWith('/')) continue;
            entries.Add(new CsvEntry(kind.Value, path));
        }
        return entries;
    }
}

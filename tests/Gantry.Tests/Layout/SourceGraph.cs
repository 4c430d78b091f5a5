using System.Text.RegularExpressions;

namespace Gantry.Tests.Layout;

/// <summary>One reference from a source file to a folder of src/Gantry: where it is and what it names.</summary>
internal sealed record FolderReference(string File, int Line, string From, string To, string What);

// Reads which folders of src/Gantry each file refers to, from the source text alone: `using` lines (plain, static,
// aliases), fully qualified names (Gantry.X.Y), names qualified from the Gantry namespace (X.Type, as a file in
// Gantry.A may write), and the types of the root namespace, which every file sees without a using line. A folder is
// the first namespace segment below Gantry ("Cdi" for Gantry.Cdi.Generate); the root namespace is the folder "".
internal sealed partial class SourceGraph
{
    public IReadOnlyDictionary<string, string> FileFolders => _fileFolders;
    public IReadOnlyList<FolderReference> References => _references;
    public IReadOnlyList<string> NamespaceMismatches => _mismatches;

    readonly Dictionary<string, string> _fileFolders = new(StringComparer.Ordinal);
    readonly List<FolderReference> _references = new();
    readonly List<string> _mismatches = new();

    public static SourceGraph Read(string srcRoot, string rootNamespace = "Gantry")
    {
        var graph = new SourceGraph();
        var files = Directory.EnumerateFiles(srcRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var texts = files.ToDictionary(f => f, File.ReadAllText);

        // Which types each namespace declares (top-level only: nested types are reached through their outer type).
        var typesByNamespace = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (file, text) in texts)
        {
            var ns = NamespaceLine().Match(text) is { Success: true } m ? m.Groups[1].Value : "";
            var relative = Path.GetRelativePath(srcRoot, Path.GetDirectoryName(file)!).Replace('/', '.');
            var expected = relative == "." ? rootNamespace : $"{rootNamespace}.{relative}";
            // Interop's partial class spreads over Host/Interop in Host's namespace: a namespace may be its folder's or a parent's.
            if (ns != expected && !expected.StartsWith(ns + ".", StringComparison.Ordinal) || ns == rootNamespace && expected != ns) graph._mismatches.Add($"{Path.GetRelativePath(srcRoot, file)}: namespace '{ns}', folder says '{expected}'");
            graph._fileFolders[file] = FolderOf(ns, rootNamespace) ?? "";
            if (!typesByNamespace.TryGetValue(ns, out var set)) typesByNamespace[ns] = set = new(StringComparer.Ordinal);
            foreach (Match d in TypeDeclaration().Matches(text)) set.Add(d.Groups[1].Value);
        }
        var rootTypes = typesByNamespace.GetValueOrDefault(rootNamespace) ?? [];
        var topFolders = typesByNamespace.Keys.Select(n => FolderOf(n, rootNamespace)).OfType<string>().Where(f => f.Length > 0).ToHashSet(StringComparer.Ordinal);

        foreach (var (file, text) in texts)
        {
            var from = graph._fileFolders[file];
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = StripComment(lines[i]);
                void Add(string to, string what)
                {
                    if (to != from) graph._references.Add(new FolderReference(Path.GetRelativePath(srcRoot, file), i + 1, from, to, what));
                }
                foreach (Match q in QualifiedName().Matches(line))
                    if (FolderOf(q.Groups[1].Value, rootNamespace) is { } to) Add(to, q.Groups[1].Value);
                if (line.StartsWith("using ", StringComparison.Ordinal)) continue;
                foreach (Match p in FolderQualifiedName().Matches(line))
                {
                    var (folder, next) = (p.Groups[1].Value, p.Groups[2].Value);
                    if (!topFolders.Contains(folder)) continue;
                    var ns = $"{rootNamespace}.{folder}";
                    var isType = typesByNamespace.GetValueOrDefault(ns)?.Contains(next) == true;
                    if (isType || typesByNamespace.ContainsKey($"{ns}.{next}")) Add(folder, $"{folder}.{next}");
                }
                if (from.Length > 0)
                    foreach (Match t in MemberAccess().Matches(line))
                        if (rootTypes.Contains(t.Groups[1].Value)) Add("", t.Groups[1].Value);
            }
        }
        return graph;
    }

    /// <summary>"Cdi" for Gantry.Cdi.Generate, "" for Gantry itself, null for a namespace outside it.</summary>
    static string? FolderOf(string ns, string root) =>
        ns == root ? "" : ns.StartsWith(root + ".", StringComparison.Ordinal) ? ns[(root.Length + 1)..].Split('.')[0] : null;

    static string StripComment(string line)
    {
        var trimmed = line.TrimStart();
        if (trimmed.StartsWith("//", StringComparison.Ordinal) || trimmed.StartsWith("*", StringComparison.Ordinal)) return "";
        var at = line.IndexOf(" // ", StringComparison.Ordinal);
        return at >= 0 ? line[..at] : line;
    }

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^(?:(?:public|internal|static|sealed|abstract|readonly|partial|unsafe|file|ref)\s+)*(?:class|record struct|record class|record|struct|interface|enum)\s+([A-Z]\w*)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    // Gantry.X... anywhere: in using lines (plain, static, alias) and in code.
    [GeneratedRegex(@"(?<![\w.])(?:global::)?(Gantry(?:\.[A-Z]\w*)+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.([A-Z]\w*)")]
    private static partial Regex FolderQualifiedName();

    // A root type is reached by a member: Program.Dispatch(...). (A bare "Program" is as often a local name.)
    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.[A-Z]")]
    private static partial Regex MemberAccess();
}

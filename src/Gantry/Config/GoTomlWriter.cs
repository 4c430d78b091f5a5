using System.Globalization;
using System.Text;
using Tomlyn.Model;

namespace Gantry.Config;

/// <summary>A value written as a comment (`#key = value`), the way the original marks defaults in config.toml.</summary>
internal sealed record CommentedValue(object Value);

// Writes a model the way the original's TOML library (go-toml v1) marshals a tree, because files the original
// generates (config.toml, the containerd and CRI-O drop-ins) are compared byte for byte: keys sorted, plain values
// before sub-tables, each table header after a blank line, nested levels indented by `indent`.
internal static class GoTomlWriter
{
    public static string Write(TomlTable table, string indent = "  ")
    {
        var sb = new StringBuilder();
        WriteTable(sb, table, "", "", indent);
        return sb.ToString();
    }

    static void WriteTable(StringBuilder sb, TomlTable table, string prefix, string pad, string indent)
    {
        var keys = table.Keys.ToList();
        var plain = keys.Where(k => !IsTableLike(table[k])).OrderBy(k => k, StringComparer.Ordinal);
        var nested = keys.Where(k => IsTableLike(table[k])).OrderBy(k => k, StringComparer.Ordinal);
        foreach (var k in plain)
        {
            var v = table[k];
            if (v is CommentedValue c) sb.Append(pad).Append('#').Append(Key(k)).Append(" = ").Append(Repr(c.Value)).Append('\n');
            else sb.Append(pad).Append(Key(k)).Append(" = ").Append(Repr(v)).Append('\n');
        }
        foreach (var k in nested)
        {
            var full = prefix.Length == 0 ? Key(k) : prefix + "." + Key(k);
            switch (table[k])
            {
                case TomlTable t:
                    sb.Append('\n').Append(pad).Append('[').Append(full).Append("]\n");
                    WriteTable(sb, t, full, pad + indent, indent);
                    break;
                case TomlTableArray arr:
                    foreach (var t in arr)
                    {
                        sb.Append('\n').Append(pad).Append("[[").Append(full).Append("]]\n");
                        WriteTable(sb, t, full, pad + indent, indent);
                    }
                    break;
            }
        }
    }

    static bool IsTableLike(object? v) => v is TomlTable or TomlTableArray;

    public static string Key(string k) =>
        k.Length > 0 && k.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' || ch == '-') ? k : Quote(k);

    /// <summary>A value as go-toml v1 writes it: basic strings, `[a, b]` arrays, integral floats with `.0`.</summary>
    public static string Repr(object? v) => v switch
    {
        string s => Quote(s),
        bool b => b ? "true" : "false",
        long or int => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        double d when double.IsNaN(d) => "nan",
        double d when double.IsInfinity(d) => d > 0 ? "inf" : "-inf",
        double d when Math.Truncate(d) == d => d.ToString("0.0", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IEnumerable<string> list => "[" + string.Join(", ", list.Select(Quote)) + "]",
        TomlArray a => "[" + string.Join(", ", a.Select(Repr)) + "]",
        TomlTable t => "{" + string.Join(", ", t.Select(kv => Key(kv.Key) + " = " + Repr(kv.Value))) + "}",
        null => "\"\"",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (ch < 0x20 || ch == 0x7f) sb.Append("\\u").Append(((int)ch).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}

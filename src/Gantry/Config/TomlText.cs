using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;
using Gantry.Common;

namespace Gantry.Config;

// Parsing TOML the two ways we need it: a lossless syntax tree (to edit a user's file and keep every comment)
// and a plain model (to read values). Both report a malformed file as one line naming file, line and column.
internal static class TomlText
{
    /// <summary>Parses into a syntax tree; throws GantryException "path:line:col: why" on the first error.</summary>
    public static DocumentSyntax ParseSyntax(string text, string sourceName)
    {
        DocumentSyntax doc;
        // Tomlyn's lexer throws this (formatting the character for its message) on some bad escapes instead of
        // reporting them; tests/Gantry.Tests/Properties/ParserPropertyTests keeps the input that found it.
        try { doc = SyntaxParser.Parse(text, sourceName, true); }
        catch (ArgumentOutOfRangeException)
        {
            throw new GantryException($"{sourceName}: invalid TOML: a string holds an escape sequence that names no character");
        }
        if (doc.HasErrors) throw Malformed(sourceName, doc.Diagnostics);
        return doc;
    }

    /// <summary>Parses into the untyped model (tables, arrays, scalars); same error form as <see cref="ParseSyntax"/>.</summary>
    public static TomlTable ParseModel(string text, string sourceName) => ToModel(ParseSyntax(text, sourceName), sourceName);

    public static TomlTable ToModel(DocumentSyntax doc, string sourceName)
    {
        try
        {
            return TomlSerializer.Deserialize(doc.ToString(), TomlModelContext.Default.TomlTable) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new GantryException($"{sourceName}:{e.Line}:{e.Column}: invalid TOML: {FirstLine(e.Message)}", e);
        }
    }

    static GantryException Malformed(string sourceName, DiagnosticsBag diagnostics)
    {
        var first = diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
        var pos = first.Span.Start;
        // Tomlyn counts lines and columns from 0; editors and the user count from 1.
        return new GantryException($"{sourceName}:{pos.Line + 1}:{pos.Column + 1}: invalid TOML: {first.Message}");
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();
}

[TomlSerializable(typeof(TomlTable))]
internal sealed partial class TomlModelContext : TomlSerializerContext;

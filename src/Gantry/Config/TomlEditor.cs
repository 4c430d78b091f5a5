using Tomlyn.Model;
using Tomlyn.Syntax;
using Gantry.Common;

namespace Gantry.Config;

// Edits a user's TOML file through Tomlyn's lossless syntax tree, so every comment, blank line, quoting style and
// unrelated key stays as it was. Comments and blank lines that precede a line are stored as trailing trivia of the
// line before; an insert takes that trivia over and a removal hands it back, so insert-then-remove is byte-identical.
internal sealed class TomlEditor : ITomlTarget
{
    readonly DocumentSyntax _doc;
    readonly string _source;
    TomlTable? _model;
    readonly HashSet<TableSyntaxBase> _created = new(ReferenceEqualityComparer.Instance);
    // Tables that lost a key through Remove: only these (and tables created here) may be pruned once empty, so
    // that a header the user wrote empty ("[plugins]") stays.
    readonly HashSet<TableSyntaxBase> _emptied = new(ReferenceEqualityComparer.Instance);

    TomlEditor(DocumentSyntax doc, string source) { _doc = doc; _source = source; }

    public static TomlEditor Parse(string text, string sourceName) => new(TomlText.ParseSyntax(text, sourceName), sourceName);

    public string Text => _doc.ToString();

    /// <summary>The file's values as a plain model (recomputed after edits).</summary>
    public TomlTable Model => _model ??= TomlText.ToModel(_doc, _source);

    public object? Get(params string[] path) => ToolkitConfigFile.TryGet(Model, path, out var v) ? v : null;

    /// <summary>Sets a value (string, bool, long, string list, or a table to merge in leaf by leaf); false when already so.</summary>
    public bool Set(string[] path, object value)
    {
        if (value is TomlTable table)
        {
            var changed = false;
            foreach (var (k, v) in table.OrderBy(kv => kv.Value is TomlTable ? 1 : 0).ThenBy(kv => kv.Key, StringComparer.Ordinal))
                if (v is not null) changed |= Set([.. path, k], v);
            return changed;
        }
        if (ModelEquals(Get(path), value)) return false;
        var fresh = ParseKeyValue(path[^1], value);
        if (Find(path) is { } existing)
        {
            var old = existing.Value!;
            var replacement = fresh.Value!;
            fresh.Value = null;
            // A trailing comment hangs off the value's last token; keep it on the new value.
            ((SyntaxNode)replacement.Tokens(false).Last()).TrailingTrivia = ((SyntaxNode)old.Tokens(false).Last()).TrailingTrivia;
            existing.Value = replacement;
        }
        else
        {
            Append(path[..^1], fresh);
        }
        Changed();
        return true;
    }

    /// <summary>Removes a key, or a table with everything under it; false when absent.</summary>
    public bool Remove(params string[] path)
    {
        var removed = false;
        foreach (var t in _doc.Tables.ToList())
            if (t is TableSyntax && StartsWith(Parts(t.Name!), path)) { RemoveTable(t); removed = true; }
        foreach (var (owner, kv, full) in Items().ToList())
            if (StartsWith(full, path)) { RemoveLine(kv, owner.Cast<SyntaxNode>().ToList()); owner.RemoveChild(kv); removed = true; }
        if (removed)
        {
            // Every table above what went may now be empty: those, and only those, are for PruneEmpty.
            foreach (var t in _doc.Tables)
                if (Parts(t.Name!) is var n && n.Length < path.Length && StartsWith(path, n)) _emptied.Add(t);
            Changed();
        }
        return removed;
    }

    /// <summary>Removes header-only tables from <paramref name="path"/> upwards while nothing else lives under them;
    /// only tables emptied (or created) by this editor: a header the user left empty is theirs.</summary>
    public void PruneEmpty(string[] path)
    {
        for (var p = path; p.Length > 0; p = p[..^1])
        {
            if (Items().Any(i => StartsWith(i.Full, p) && i.Full.Length > p.Length)) return;
            if (_doc.Tables.Any(t => { var n = Parts(t.Name!); return n.Length > p.Length && StartsWith(n, p); })) return;
            var header = _doc.Tables.OfType<TableSyntax>().FirstOrDefault(t => Parts(t.Name!).SequenceEqual(p));
            if (header is null) continue;
            if (header.Items.ChildrenCount > 0) return;
            if (!_emptied.Contains(header) && !_created.Contains(header)) return;
            RemoveTable(header);
            Changed();
        }
    }

    void Changed() => _model = null;

    // ---- finding -------------------------------------------------------------------------------------------

    IEnumerable<(SyntaxList<KeyValueSyntax> Owner, KeyValueSyntax Kv, string[] Full)> Items()
    {
        foreach (var kv in _doc.KeyValues) yield return (_doc.KeyValues, kv, Parts(kv.Key!));
        foreach (var t in _doc.Tables)
        {
            if (t is not TableSyntax) continue;
            var prefix = Parts(t.Name!);
            foreach (var kv in t.Items) yield return (t.Items, kv, [.. prefix, .. Parts(kv.Key!)]);
        }
    }

    KeyValueSyntax? Find(string[] path) => Items().FirstOrDefault(i => i.Full.SequenceEqual(path)).Kv;

    internal static string[] Parts(KeySyntax key)
    {
        var parts = new List<string> { Name(key.Key!) };
        foreach (var d in key.DotKeys) parts.Add(Name(d.Key!));
        return parts.ToArray();
    }

    static string Name(BareKeyOrStringValueSyntax n) => n switch
    {
        BareKeySyntax b => b.Key!.Text!,
        StringValueSyntax s => s.Value!,
        _ => n.ToString()!,
    };

    static bool StartsWith(string[] full, string[] prefix) => full.Length >= prefix.Length && full.AsSpan(0, prefix.Length).SequenceEqual(prefix);

    // ---- inserting -----------------------------------------------------------------------------------------

    void Append(string[] tablePath, KeyValueSyntax kv)
    {
        if (tablePath.Length == 0)
        {
            var prev = _doc.KeyValues.ChildrenCount > 0 ? _doc.KeyValues.GetChild(_doc.KeyValues.ChildrenCount - 1) : null;
            if (prev is not null) TakeTrailing(prev.EndOfLineToken, kv, prev);
            else if (_doc.Tables.ChildrenCount > 0) kv.EndOfLineToken!.AddTrailingTrivia(SyntaxFactory.NewLineTrivia());
            _doc.KeyValues.Add(kv);
            return;
        }
        var table = _doc.Tables.OfType<TableSyntax>().FirstOrDefault(t => Parts(t.Name!).SequenceEqual(tablePath)) ?? NewTable(tablePath);
        var last = table.Items.ChildrenCount > 0 ? (SyntaxNode)table.Items.GetChild(table.Items.ChildrenCount - 1)! : table;
        var indent = table.Items.ChildrenCount > 0 ? new string(' ', Column(table.Items.GetChild(0)!)) : ItemIndent(table, tablePath);
        if (indent.Length > 0) kv.AddLeadingTrivia(new SyntaxTrivia(TokenKind.Whitespaces, indent));
        TakeTrailing(EndOfLine(last), kv, last);
        table.Items.Add(kv);
    }

    TableSyntax NewTable(string[] path)
    {
        var table = TomlText.ParseSyntax($"[{string.Join('.', path.Select(GoTomlWriter.Key))}]\n", "(new table)").Tables.GetChild(0) as TableSyntax;
        var detached = Detach(table!);
        _created.Add(detached);
        var tables = _doc.Tables.ToList();
        // Place it after the last table sharing the longest prefix, so related sections stay together.
        var at = tables.Count;
        for (var len = path.Length - 1; len > 0 && at == tables.Count; len--)
        {
            var idx = tables.FindLastIndex(t => StartsWith(Parts(t.Name!), path[..len]));
            if (idx >= 0) at = idx + 1;
        }
        var indented = IsIndented();
        detached.LeadingTrivia = [SyntaxFactory.NewLineTrivia()];
        if (indented && path.Length > 1) detached.LeadingTrivia.Add(new SyntaxTrivia(TokenKind.Whitespaces, new string(' ', 2 * (path.Length - 1))));
        if (at > 0)
        {
            var prev = tables[at - 1];
            var prevLast = prev.Items.ChildrenCount > 0 ? (SyntaxNode)prev.Items.GetChild(prev.Items.ChildrenCount - 1)! : prev;
            TakeTrailing(EndOfLine(prevLast), detached, prevLast);
        }
        else if (_doc.KeyValues.ChildrenCount > 0)
        {
            var prevKv = _doc.KeyValues.GetChild(_doc.KeyValues.ChildrenCount - 1)!;
            TakeTrailing(prevKv.EndOfLineToken, detached, prevKv);
        }
        for (var i = tables.Count - 1; i >= 0; i--) _doc.Tables.RemoveChildAt(i);
        tables.Insert(at, detached);
        foreach (var t in tables) _doc.Tables.Add(t);
        return detached;
    }

    static TableSyntax Detach(TableSyntax t)
    {
        var doc = (DocumentSyntax)t.Parent!.Parent!;
        doc.Tables.RemoveChild(t);
        return t;
    }

    KeyValueSyntax ParseKeyValue(string key, object value)
    {
        var doc = TomlText.ParseSyntax($"{GoTomlWriter.Key(key)} = {GoTomlWriter.Repr(value)}\n", "(new value)");
        var kv = doc.KeyValues.GetChild(0)!;
        doc.KeyValues.RemoveChild(kv);
        return kv;
    }

    // Indentation lives in trivia of the line before, so it is read from parsed positions instead. A table created
    // here has no position yet: go-toml's layout (2 spaces per level) is used when the file is indented at all.
    string ItemIndent(TableSyntax table, string[] path)
    {
        if (!IsIndented()) return "";
        var header = _created.Contains(table) ? 2 * (path.Length - 1) : table.Span.Start.Column;
        return new string(' ', header + 2);
    }

    bool IsIndented() => _doc.Tables.Any(t => !_created.Contains(t) && (t.Span.Start.Column > 0 || t.Items.Any(i => Column(i) > 0)));

    int Column(SyntaxNode n) => n.Parent?.Parent is TableSyntaxBase t && _created.Contains(t)
        ? (n.LeadingTrivia?.LastOrDefault() is { Kind: TokenKind.Whitespaces } ws ? ws.Text?.Length ?? 0 : 0)
        : n.Span.Start.Column;

    static SyntaxToken? EndOfLine(SyntaxNode n) => n switch
    {
        KeyValueSyntax kv => kv.EndOfLineToken,
        TableSyntaxBase t => t.EndOfLineToken,
        _ => null,
    };

    /// <summary>The new line takes over what followed the previous one (blank lines, the next section's comments).</summary>
    static void TakeTrailing(SyntaxToken? prevEol, SyntaxNode fresh, SyntaxNode prev)
    {
        if (prevEol is null)
        {
            // The previous line ends the file without a newline: give it one so the new line starts on its own.
            prev.AddTrailingTrivia(SyntaxFactory.NewLineTrivia());
            return;
        }
        var freshEol = EndOfLine(fresh)!;
        if (prevEol.TrailingTrivia is { Count: > 0 } moved)
        {
            freshEol.TrailingTrivia = [.. moved];
            prevEol.TrailingTrivia = null;
        }
    }

    // ---- removing ------------------------------------------------------------------------------------------

    void RemoveTable(TableSyntaxBase t)
    {
        var tables = _doc.Tables.ToList();
        var i = tables.IndexOf(t);
        SyntaxNode? prev = i > 0
            ? (tables[i - 1].Items.ChildrenCount > 0 ? tables[i - 1].Items.GetChild(tables[i - 1].Items.ChildrenCount - 1) : tables[i - 1])
            : (_doc.KeyValues.ChildrenCount > 0 ? _doc.KeyValues.GetChild(_doc.KeyValues.ChildrenCount - 1) : null);
        var last = t.Items.ChildrenCount > 0 ? (SyntaxNode)t.Items.GetChild(t.Items.ChildrenCount - 1)! : t;
        GiveBack(EndOfLine(last), prev);
        _doc.Tables.RemoveChild(t);
    }

    static void RemoveLine(KeyValueSyntax kv, List<SyntaxNode> siblings)
    {
        var i = siblings.IndexOf(kv);
        var prev = i > 0 ? siblings[i - 1] : kv.Parent?.Parent as TableSyntaxBase;
        GiveBack(kv.EndOfLineToken, prev);
    }

    // The blank lines and indentation that led up to the removed line (kept by the line before it) go with it;
    // what followed the removed line (the next section's comments and spacing) takes their place.
    static void GiveBack(SyntaxToken? removedEol, SyntaxNode? prev)
    {
        if (prev is null || EndOfLine(prev) is not { } prevEol) return;
        var kept = prevEol.TrailingTrivia ?? [];
        if (kept.Count > 0 && kept[^1].Kind == TokenKind.Whitespaces) kept.RemoveAt(kept.Count - 1);
        // Blank lines go too, but never the newline that ends a comment line.
        while (kept.Count > 0 && kept[^1].Kind == TokenKind.NewLine && (kept.Count == 1 || kept[^2].Kind != TokenKind.Comment))
        {
            kept.RemoveAt(kept.Count - 1);
            if (kept.Count > 0 && kept[^1].Kind == TokenKind.Whitespaces && (kept.Count == 1 || kept[^2].Kind == TokenKind.NewLine)) kept.RemoveAt(kept.Count - 1);
        }
        if (removedEol?.TrailingTrivia is { Count: > 0 } trivia) kept.AddRange(trivia);
        prevEol.TrailingTrivia = kept.Count > 0 ? kept : null;
    }

    static bool ModelEquals(object? a, object? b) => (a, b) switch
    {
        (null, _) or (_, null) => false,
        (TomlArray x, IEnumerable<string> y) => x.Count == y.Count() && x.Zip(y).All(p => p.First is string s && s == p.Second),
        (TomlArray x, TomlArray y) => x.Count == y.Count && x.Zip(y).All(p => ModelEquals(p.First, p.Second)),
        (long x, int y) => x == y,
        _ => Equals(a, b),
    };

    /// <summary>Throws if an edit produced text that no longer parses (a guard; never expected).</summary>
    public string CheckedText()
    {
        var text = Text;
        try { TomlText.ParseSyntax(text, _source); }
        catch (GantryException e) { throw new GantryException($"internal error: editing {_source} produced invalid TOML ({e.Message}); the file was not changed", e); }
        return text;
    }
}

using System.Diagnostics.CodeAnalysis;

namespace Gantry.Common;

internal enum FlagKind { Bool, String, List }

internal sealed record FlagDefinition(string Name, FlagKind Kind, string[] Aliases, string? Default, string[] EnvVars, string Help, bool SplitComma = true);

/// <summary>A bad command line: printed as one line with the usage hint, exit code as the original tool's.</summary>
internal sealed class UsageException(string message) : Exception(message);

// A small parser in the style the original tools accept: "--name value", "--name=value", "-name", short
// aliases, repeated list flags that also split on commas, and environment variables as fallbacks.
internal sealed class FlagSet
{
    readonly List<FlagDefinition> _defs = new();
    readonly Dictionary<string, FlagDefinition> _byName = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _setOnCommandLine = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = new();
    public IReadOnlyList<FlagDefinition> Definitions => _defs;

    public FlagSet Bool(string name, string help, string[]? aliases = null, string[]? env = null, bool dflt = false) =>
        Add(new FlagDefinition(name, FlagKind.Bool, aliases ?? [], dflt ? "true" : "false", env ?? [], help));

    public FlagSet String(string name, string help, string? dflt = null, string[]? aliases = null, string[]? env = null) =>
        Add(new FlagDefinition(name, FlagKind.String, aliases ?? [], dflt, env ?? [], help));

    public FlagSet List(string name, string help, string? dflt = null, string[]? aliases = null, string[]? env = null, bool splitComma = true) =>
        Add(new FlagDefinition(name, FlagKind.List, aliases ?? [], dflt, env ?? [], help, splitComma));

    FlagSet Add(FlagDefinition def)
    {
        _defs.Add(def);
        _byName[def.Name] = def;
        foreach (var a in def.Aliases) _byName[a] = def;
        return this;
    }

    /// <summary>Parses args; flags may appear anywhere until a bare "--", after which all is positional.</summary>
    public FlagSet Parse(IReadOnlyList<string> args, bool stopAtFirstPositional = false)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--") { for (i++; i < args.Count; i++) Positionals.Add(args[i]); break; }
            if (arg.Length < 2 || arg[0] != '-' || (stopAtFirstPositional && Positionals.Count > 0))
            {
                Positionals.Add(arg);
                if (stopAtFirstPositional) { for (i++; i < args.Count; i++) Positionals.Add(args[i]); break; }
                continue;
            }
            var body = arg.TrimStart('-');
            string? inline = null;
            var eq = body.IndexOf('=');
            if (eq >= 0) { inline = body[(eq + 1)..]; body = body[..eq]; }
            if (!_byName.TryGetValue(body, out var def))
                throw new UsageException($"flag provided but not defined: -{body}");
            string value;
            if (def.Kind == FlagKind.Bool)
            {
                value = inline ?? "true";
                if (!TryParseBool(value, out _)) throw new UsageException($"invalid boolean value \"{value}\" for flag -{body}");
            }
            else if (inline is not null) value = inline;
            else if (i + 1 < args.Count) value = args[++i];
            else throw new UsageException($"flag needs an argument: -{body}");
            Record(def, value, fromCommandLine: true);
        }
        foreach (var def in _defs)
        {
            if (_setOnCommandLine.Contains(def.Name)) continue;
            foreach (var env in def.EnvVars)
            {
                var v = Environment.GetEnvironmentVariable(env);
                if (!string.IsNullOrEmpty(v)) { Record(def, v, fromCommandLine: false); break; }
            }
        }
        return this;
    }

    void Record(FlagDefinition def, string value, bool fromCommandLine)
    {
        if (!_values.TryGetValue(def.Name, out var list) || (def.Kind != FlagKind.List))
            _values[def.Name] = list = new List<string>();
        if (def.Kind == FlagKind.List && def.SplitComma)
            list.AddRange(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        else
            list.Add(value);
        if (fromCommandLine) _setOnCommandLine.Add(def.Name);
    }

    public bool IsSet(string name) => _values.ContainsKey(Def(name).Name);

    /// <summary>Set on the command line (not only by its environment variable).</summary>
    public bool IsSetOnCommandLine(string name) => _setOnCommandLine.Contains(Def(name).Name);

    public string? Get(string name)
    {
        var def = Def(name);
        return _values.TryGetValue(def.Name, out var v) && v.Count > 0 ? v[^1] : def.Default;
    }

    public string GetOr(string name, string fallback) => Get(name) is { Length: > 0 } v ? v : fallback;

    public bool GetBool(string name)
    {
        var v = Get(name);
        return v is not null && TryParseBool(v, out var b) && b;
    }

    public List<string> GetList(string name)
    {
        var def = Def(name);
        if (_values.TryGetValue(def.Name, out var v)) return new List<string>(v);
        return def.Default is null ? new List<string>() : def.Default.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    FlagDefinition Def(string name) =>
        _byName.TryGetValue(name, out var d) ? d : throw new InvalidOperationException($"flag {name} is not defined");

    /// <summary>Go's strconv.ParseBool, which the original tools use for flags and environment values.</summary>
    public static bool TryParseBool(string s, out bool value)
    {
        switch (s)
        {
            case "1": case "t": case "T": case "true": case "TRUE": case "True": value = true; return true;
            case "0": case "f": case "F": case "false": case "FALSE": case "False": value = false; return true;
            default: value = false; return false;
        }
    }

    public string Usage()
    {
        var w = new StringWriter();
        foreach (var d in _defs)
        {
            var names = string.Join(", ", new[] { d.Name }.Concat(d.Aliases).Select(n => (n.Length == 1 ? "-" : "--") + n));
            var val = d.Kind == FlagKind.Bool ? "" : " value";
            var dflt = string.IsNullOrEmpty(d.Default) || d.Default == "false" ? "" : $" (default: {d.Default})";
            var env = d.EnvVars.Length > 0 ? $" [${string.Join(", $", d.EnvVars)}]" : "";
            w.WriteLine($"   {names}{val}\t{d.Help}{dflt}{env}");
        }
        return w.ToString();
    }
}

using Gantry.Common;

namespace Gantry.Config;

/// <summary>One parsed `--set`: a key and its typed value; a null value means "delete the key".</summary>
internal sealed record ConfigSet(ConfigKey Key, object? Value);

// `nvidia-ctk config`: load the file (missing → the defaults tree), apply --set, produce the text to write.
// An existing file is edited through its syntax tree, so the user's comments and unrelated keys survive
// (the original re-marshals the whole file and drops them); a missing file gives the commented-defaults layout.
internal static class ConfigSetter
{
    /// <summary>Parses `key[=value]` with the original's typing rules.</summary>
    public static ConfigSet ParseSet(string flag, string listSeparator = ":") => Checked(flag, ParseUnchecked(flag, listSeparator));

    static ConfigSet Checked(string flag, ConfigSet set) =>
        ConfigValues.Problem(set.Key, set.Value, Environment.GetEnvironmentVariable("PATH")) is { } problem
            ? throw new UsageException($"invalid --set {flag}: {problem}")
            : set;

    static ConfigSet ParseUnchecked(string flag, string listSeparator)
    {
        var eq = flag.IndexOf('=');
        var name = eq < 0 ? flag : flag[..eq];
        if (!ConfigKeys.TryFind(name, out var key))
            throw new UsageException($"invalid --set {flag}: '{name}' is not a config option; see 'nvidia-ctk config default' for every key");
        if (eq < 0)
        {
            if (key.IsBool) return new ConfigSet(key, true);
            throw new UsageException($"invalid --set {flag}: expected {name}=VALUE ({name} is not a boolean)");
        }
        var value = flag[(eq + 1)..];
        if (key.IsPointer && value == "nil") return new ConfigSet(key, null);
        if (key.IsBool)
            return FlagSet.TryParseBool(value, out var b) ? new ConfigSet(key, b)
                : throw new UsageException($"invalid --set {flag}: '{value}' is not a boolean (true, false, 1, 0, t, f)");
        if (key.IsList)
        {
            var sep = value.Contains(listSeparator, StringComparison.Ordinal) ? listSeparator : ",";
            return new ConfigSet(key, value.Split(sep).ToList());
        }
        return new ConfigSet(key, value);
    }

    /// <summary>The new file text for <paramref name="existing"/> (null: no file) after the sets.</summary>
    public static string Apply(string? existing, string sourceName, IEnumerable<ConfigSet> sets, ConfigHostFacts host)
    {
        string text;
        if (existing is null)
        {
            var tree = ConfigDefaults.ToTree(ConfigDefaults.Create(host));
            foreach (var s in sets)
            {
                if (s.Value is null) ConfigDefaults.RemovePath(tree, s.Key.Parts);
                else ConfigDefaults.SetPath(tree, s.Key.Parts, s.Value is List<string> l ? ConfigDefaults.ToArray(l) : s.Value);
            }
            text = ConfigDefaults.Render(tree, host);
        }
        else
        {
            var editor = TomlEditor.Parse(existing, sourceName);
            foreach (var s in sets)
            {
                if (s.Value is null) editor.Remove(s.Key.Parts);
                else editor.Set(s.Key.Parts, s.Value);
            }
            text = editor.CheckedText();
        }
        // Refuse to write a config the toolkit itself would reject (e.g. a non-host-relative ldconfig).
        ToolkitConfigFile.Parse(text, sourceName);
        return text;
    }

}

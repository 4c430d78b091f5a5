using Tomlyn.Model;

namespace Gantry.Config;

/// <summary>
/// A TOML document the engine edits are written against: a user's file (edited through its syntax tree) or a fresh
/// drop-in (a plain model written in go-toml's layout). The edit logic is written once for both.
/// </summary>
internal interface ITomlTarget
{
    object? Get(params string[] path);
    bool Set(string[] path, object value);
    bool Remove(params string[] path);
    void PruneEmpty(string[] path);
}

internal sealed class TomlModelTarget(TomlTable root) : ITomlTarget
{
    public TomlTable Root { get; } = root;

    public object? Get(params string[] path) => ToolkitConfigFile.TryGet(Root, path, out var v) ? v : null;

    public bool Set(string[] path, object value)
    {
        if (value is TomlTable t)
        {
            foreach (var (k, v) in t) if (v is not null) Set([.. path, k], v);
            return true;
        }
        ConfigDefaults.SetPath(Root, path, value is IEnumerable<string> l ? ConfigDefaults.ToArray(l) : value);
        return true;
    }

    public bool Remove(params string[] path) => ConfigDefaults.RemovePath(Root, path);

    public void PruneEmpty(string[] path)
    {
        for (var p = path; p.Length > 0; p = p[..^1])
            if (Get(p) is TomlTable { Count: 0 }) Remove(p); else return;
    }

    /// <summary>A deep copy, so a drop-in built from a source tree never aliases it.</summary>
    public static object Clone(object v) => v switch
    {
        TomlTable t => CloneTable(t),
        TomlArray a => CloneArray(a),
        _ => v,
    };

    static TomlTable CloneTable(TomlTable t)
    {
        var copy = new TomlTable();
        foreach (var (k, v) in t) if (v is not null) copy[k] = Clone(v);
        return copy;
    }

    static TomlArray CloneArray(TomlArray a)
    {
        var copy = new TomlArray();
        foreach (var v in a) copy.Add(v is null ? null : Clone(v));
        return copy;
    }
}

using Tomlyn.Model;
using Gantry.Common;

namespace Gantry.Config;

// Where config.toml is and how it is read. Absent keys keep their defaults (like the original, which decodes
// over GetDefault()); unknown keys are ignored; a wrong type or a malformed file is an error naming the file.
internal static class ToolkitConfigFile
{
    public const string PathVariable = "NVIDIA_CTK_CONFIG_FILE_PATH";
    public const string RelativePath = "nvidia-container-runtime/config.toml";

    /// <summary>NVIDIA_CTK_CONFIG_FILE_PATH, else $XDG_CONFIG_HOME/nvidia-container-runtime/config.toml, else /etc/….</summary>
    public static string DefaultPath() => DefaultPath(Environment.GetEnvironmentVariable);

    public static string DefaultPath(Func<string, string?> env)
    {
        if (env(PathVariable) is { Length: > 0 } explicitPath) return explicitPath;
        var dir = env("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : "/etc";
        return Path.Combine(dir, RelativePath);
    }

    /// <summary>Reads a config file; a missing file gives the defaults; a malformed one throws GantryException naming the file.</summary>
    public static ToolkitConfig Load(string? path = null)
    {
        path ??= DefaultPath();
        if (Directory.Exists(path)) throw new GantryException($"config file {path} is a directory, not a file");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new ToolkitConfig();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GantryException($"cannot read config file {path}: {e.Message}", e);
        }
        return Parse(text, path);
    }

    /// <summary>Reads config text; <paramref name="sourceName"/> names it in errors.</summary>
    public static ToolkitConfig Parse(string text, string sourceName)
    {
        var model = TomlText.ParseModel(text, sourceName);
        var config = new ToolkitConfig();
        foreach (var key in ConfigKeys.All)
        {
            if (TryGet(model, key.Parts, out var raw)) key.Set(config, Convert(key, raw, sourceName));
        }
        Validate(config, sourceName);
        return config;
    }

    static void Validate(ToolkitConfig config, string sourceName)
    {
        var ldconfig = config.NvidiaContainerCli.Ldconfig;
        if (!ldconfig.StartsWith('@') && config.Features.AllowLdconfigFromContainer != true)
            throw new GantryException(
                $"{sourceName}: invalid config value: nvidia-container-cli.ldconfig value \"{ldconfig}\" is not host-relative (does not start with a '@'); " +
                "prefix it with '@' or set features.allow-ldconfig-from-container = true");
    }

    internal static bool TryGet(TomlTable model, string[] parts, out object? value)
    {
        value = null;
        var table = model;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!table.TryGetValue(parts[i], out var next) || next is not TomlTable t) return false;
            table = t;
        }
        return table.TryGetValue(parts[^1], out value);
    }

    static object? Convert(ConfigKey key, object? raw, string sourceName)
    {
        switch (key.Kind)
        {
            case ConfigKeyKind.Bool or ConfigKeyKind.OptionalBool when raw is bool b:
                return b;
            case ConfigKeyKind.String or ConfigKeyKind.OptionalString when raw is string s:
                return s;
            case ConfigKeyKind.StringList or ConfigKeyKind.OptionalStringList when raw is TomlArray a && a.All(x => x is string):
                return a.Cast<string>().ToList();
        }
        var want = key.IsBool ? "a boolean" : key.IsList ? "an array of strings" : "a string";
        throw new GantryException($"{sourceName}: {key.Path} must be {want}, not {Describe(raw)}");
    }

    static string Describe(object? raw) => raw switch
    {
        null => "empty",
        bool b => $"the boolean {(b ? "true" : "false")}",
        string s => $"the string \"{s}\"",
        long or double => $"the number {System.Convert.ToString(raw, System.Globalization.CultureInfo.InvariantCulture)}",
        TomlArray => "an array of other values",
        TomlTable => "a table",
        _ => raw.GetType().Name,
    };
}

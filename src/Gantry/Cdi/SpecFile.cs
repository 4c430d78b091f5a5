using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Gantry.Edits;
using SharpYaml;
using SharpYaml.Serialization;

namespace Gantry.Cdi;

internal enum SpecFormat { Yaml, Json }

/// <summary>Why a spec file could not be read: which file, where in it (1-based, when the parser knows), what.</summary>
internal sealed record SpecError(string File, int? Line, int? Column, string Message)
{
    public override string ToString() =>
        Line is int l ? $"{File}:{l}:{Column ?? 0}: {Message}" : $"{File}: {Message}";
}

// Strict reading, like the original's strict decode: unknown fields and duplicate keys are errors.
[YamlSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DuplicateKeyHandling = YamlDuplicateKeyHandling.Error)]
[YamlSerializable(typeof(Spec))]
internal sealed partial class CdiYamlContext : YamlSerializerContext;

internal static partial class SpecFile
{
    /// <summary>Format from the file extension (.json, .yaml, .yml); null for anything else.</summary>
    public static SpecFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => SpecFormat.Json,
        ".yaml" or ".yml" => SpecFormat.Yaml,
        _ => null,
    };

    /// <summary>For text without a file name (stdin): a JSON object starts with '{', anything else is YAML.</summary>
    public static SpecFormat Sniff(string text) =>
        text.AsSpan().TrimStart().TrimStart('\uFEFF').StartsWith("{") ? SpecFormat.Json : SpecFormat.Yaml;

    /// <summary>Reads and parses a spec file; "-" reads stdin. Errors come back as data, never thrown.</summary>
    public static bool TryRead(string path, [NotNullWhen(true)] out Spec? spec, [NotNullWhen(false)] out SpecError? error)
    {
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            spec = null;
            error = new SpecError(path, null, null, $"cannot read: {e.Message}");
            return false;
        }
        var format = path == "-" ? Sniff(text) : FormatOf(path) ?? Sniff(text);
        return TryParse(text, format, path, out spec, out error);
    }

    public static bool TryParse(string text, SpecFormat format, string source,
        [NotNullWhen(true)] out Spec? spec, [NotNullWhen(false)] out SpecError? error)
    {
        spec = null;
        try
        {
            spec = format == SpecFormat.Json ? SpecJson.Deserialize(text) : ParseYaml(text);
        }
        catch (JsonException e)
        {
            error = new SpecError(source, (int?)(e.LineNumber + 1), (int?)(e.BytePositionInLine + 1), CleanJson(e));
            return false;
        }
        catch (YamlException e)
        {
            var known = e.Start.Line >= 0 && !e.Start.Equals(Mark.Empty);
            error = new SpecError(source, known ? e.Start.Line + 1 : null, known ? e.Start.Column + 1 : null, CleanYaml(e.Message));
            return false;
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidOperationException or ArgumentException or InvalidCastException)
        {
            // Scalars that do not fit the field's type, reported by the converters without a position.
            error = new SpecError(source, null, null, e.Message);
            return false;
        }
        if (spec is null)
        {
            error = new SpecError(source, null, null, "empty spec");
            return false;
        }
        var nullAt = FindNull(spec);
        if (nullAt is not null)
        {
            error = new SpecError(source, null, null, $"{nullAt}: must not be null");
            spec = null;
            return false;
        }
        error = null;
        return true;
    }

    static Spec? ParseYaml(string text)
    {
        // An empty document (or only "---") is "no spec", not a spec with defaults.
        if (string.IsNullOrWhiteSpace(text.Replace("---", ""))) return null;
        YamlDuplicateKeys.Check(text);
        return YamlSerializer.Deserialize(text, CdiYamlContext.Default.Spec);
    }

    // The serializers accept explicit nulls ("devices: ~", "- null"); the model does not.
    static string? FindNull(Spec spec)
    {
        if (spec.Devices is null) return "devices";
        for (var i = 0; i < spec.Devices.Count; i++)
        {
            var d = spec.Devices[i];
            if (d is null) return $"devices[{i}]";
            if (d.Name is null) return $"devices[{i}].name";
            if (d.ContainerEdits is null) return $"devices[{i}].containerEdits";
            if (FindNull(d.ContainerEdits) is string inner) return $"devices[{i}].containerEdits.{inner}";
        }
        if (spec.CdiVersion is null) return "cdiVersion";
        if (spec.Kind is null) return "kind";
        if (spec.ContainerEdits is not null && FindNull(spec.ContainerEdits) is string common) return $"containerEdits.{common}";
        return null;
    }

    static string? FindNull(ContainerEdits e)
    {
        if (IndexOfNull(e.Env) is int env) return $"env[{env}]";
        if (IndexOfNull(e.DeviceNodes) is int n) return $"deviceNodes[{n}]";
        if (e.DeviceNodes?.FindIndex(x => x.Path is null) is int np and >= 0) return $"deviceNodes[{np}].path";
        if (IndexOfNull(e.Hooks) is int h) return $"hooks[{h}]";
        if (e.Hooks?.FindIndex(x => x.Path is null || x.HookName is null || IndexOfNull(x.Args) is not null || IndexOfNull(x.Env) is not null) is int hp and >= 0)
            return $"hooks[{hp}]";
        if (IndexOfNull(e.Mounts) is int m) return $"mounts[{m}]";
        if (e.Mounts?.FindIndex(x => x.HostPath is null || x.ContainerPath is null || IndexOfNull(x.Options) is not null) is int mp and >= 0)
            return $"mounts[{mp}]";
        return null;
    }

    static int? IndexOfNull<T>(List<T>? list) where T : class?
    {
        if (list is null) return null;
        var i = list.FindIndex(x => x is null);
        return i >= 0 ? i : null;
    }

    // System.Text.Json appends " Path: $.x | LineNumber: 0 | BytePositionInLine: 3." — we report those apart.
    static string CleanJson(JsonException e)
    {
        var m = e.Message;
        var cut = m.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0) cut = m.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        m = Friendly(m);
        return e.Path is { Length: > 1 } p ? $"{p[2..].TrimStart('.')}: {m}".TrimStart(':', ' ') : m;
    }

    [GeneratedRegex(@"^\(Lin: \d+, Col: \d+, Chr: \d+\) - \(Lin: \d+, Col: \d+, Chr: \d+\): ")]
    private static partial Regex YamlPosition();

    [GeneratedRegex(@"^The (?:YAML member|JSON property) '(.*)' could not be mapped to .*'(?:[\w.]*\.)?(\w+)'\.$")]
    private static partial Regex Unmapped();

    // "The YAML member 'x' could not be mapped to 'Gantry.Cdi.Device'." reads as the original's "unknown field".
    static string Friendly(string message) =>
        Unmapped().Match(message) is { Success: true } m ? $"unknown field \"{m.Groups[1].Value}\" (in {m.Groups[2].Value})" : message;

    static string CleanYaml(string message) => Friendly(YamlPosition().Replace(message, ""));
}

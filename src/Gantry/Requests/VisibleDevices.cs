namespace Gantry.Requests;

/// <summary>What a container asked for: no GPU container at all, "none" (driver but no GPU), every GPU, or a list.</summary>
internal enum RequestKind { NotRequested, None, All, List }

/// <summary>A device request as NVIDIA_VISIBLE_DEVICES (and its other spellings) express it.</summary>
internal sealed record VisibleDevices(RequestKind Kind, IReadOnlyList<string> Ids)
{
    public static VisibleDevices NotRequested { get; } = new(RequestKind.NotRequested, []);
    public static VisibleDevices None { get; } = new(RequestKind.None, []);
    public static VisibleDevices All { get; } = new(RequestKind.All, []);

    public bool IsRequested => Kind != RequestKind.NotRequested;

    /// <summary>The ids as a list the CDI layer understands: "all", "none" (Gantry's spelling of ""), or the ids.</summary>
    public IReadOnlyList<string> AsIds() => Kind switch
    {
        RequestKind.All => ["all"],
        RequestKind.None => ["none"],
        RequestKind.List => Ids,
        _ => [],
    };

    /// <summary>
    /// Items of a comma list, trimmed, empty ones dropped. "all" anywhere wins, then "none"; "void" or an empty
    /// list means no GPU container. Duplicates are dropped (the original leaves "" holes for them: a quirk not kept).
    /// </summary>
    public static VisibleDevices Parse(IEnumerable<string> values)
    {
        var items = values.SelectMany(v => v.Split(',')).Select(i => i.Trim()).Where(i => i.Length > 0).ToList();
        if (items.Contains("all")) return All;
        if (items.Contains("none")) return None;
        if (items.Count == 0 || items.Contains("void")) return NotRequested;
        return new VisibleDevices(RequestKind.List, items.Distinct(StringComparer.Ordinal).ToArray());
    }

    public static VisibleDevices Parse(string? value) => value is null ? NotRequested : Parse([value]);

    public override string ToString() => Kind switch
    {
        RequestKind.List => string.Join(",", Ids),
        RequestKind.NotRequested => "void",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

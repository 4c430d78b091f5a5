using Gantry.Edits;

namespace Gantry.Cdi;

// Which cdiVersion a spec needs: a table of (version, "does the spec use a feature added then?").
// A spec is written with the lowest version that covers everything it uses, so older runtimes can read it.
internal static class SpecVersion
{
    public const string Earliest = "0.3.0";

    static readonly (string Version, Func<Spec, bool>? Requires)[] Table =
    [
        ("0.3.0", null),
        ("0.4.0", s => AllEdits(s).Any(e => e.Mounts?.Any(m => !string.IsNullOrEmpty(m.Type)) == true)),           // mount type
        ("0.5.0", s => s.Devices.Any(d => d.Name.Length > 0 && !QualifiedName.IsLetter(d.Name[0])) ||               // names like "0"
                       AllEdits(s).Any(e => e.DeviceNodes?.Any(n => !string.IsNullOrEmpty(n.HostPath)) == true)),    // device hostPath
        ("0.6.0", s => s.Annotations is { Count: > 0 } || s.Devices.Any(d => d.Annotations is { Count: > 0 }) ||
                       ClassPart(s.Kind).Contains('.')),                                                              // "." in class
        ("0.7.0", s => AllEdits(s).Any(e => e.AdditionalGids is { Count: > 0 })),                                   // (and intelRdt, not modelled)
        ("0.8.0", null),                                                                                             // API-only release
        ("1.0.0", null),
        ("1.1.0", null),                                                                                             // netDevices, intelRdt schemata: not modelled
    ];

    /// <summary>Every cdiVersion a spec may declare, oldest first.</summary>
    public static IReadOnlyList<string> Known { get; } = Table.Select(t => t.Version).ToArray();

    public static string Latest => Known[^1];

    public static bool IsKnown(string version) => Known.Contains(Normalize(version));

    /// <summary>The lowest version whose features cover everything the spec uses.</summary>
    public static string Minimum(Spec spec)
    {
        var min = Earliest;
        foreach (var (version, requires) in Table)
            if (requires is not null && requires(spec) && Compare(version, min) > 0) min = version;
        return min;
    }

    /// <summary>Semantic comparison of "X.Y.Z" (a leading "v" is ignored); unparsable versions sort first.</summary>
    public static int Compare(string a, string b)
    {
        var pa = Parts(a);
        var pb = Parts(b);
        for (var i = 0; i < 3; i++)
            if (pa[i] != pb[i]) return pa[i].CompareTo(pb[i]);
        return 0;
    }

    static string Normalize(string v) => v.StartsWith('v') ? v[1..] : v;

    static long[] Parts(string v)
    {
        var p = Normalize(v).Split('.');
        var r = new long[] { -1, -1, -1 };
        for (var i = 0; i < 3 && i < p.Length; i++) r[i] = long.TryParse(p[i], out var n) ? n : -1;
        return r;
    }

    static string ClassPart(string kind) => kind.IndexOf('/') is var i and > 0 ? kind[(i + 1)..] : "";

    static IEnumerable<ContainerEdits> AllEdits(Spec s)
    {
        foreach (var d in s.Devices)
            if (d.ContainerEdits is not null) yield return d.ContainerEdits;
        if (s.ContainerEdits is not null) yield return s.ContainerEdits;
    }
}

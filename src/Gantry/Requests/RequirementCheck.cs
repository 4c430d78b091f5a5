namespace Gantry.Requests;

// Gathers a container's requirements (every NVIDIA_REQUIRE_* but NVIDIA_REQUIRE_JETPACK*, plus cuda>=X.Y for a
// legacy CUDA image) and checks them against the host, for each selected GPU, like nvidia-container-cli does.
internal static class RequirementCheck
{
    /// <summary>The requirement texts, sorted by variable name; empty when disabled.</summary>
    public static IReadOnlyList<string> Collect(ContainerFacts c, bool disabledByConfig)
    {
        if (disabledByConfig || ParseBool(c.Get("NVIDIA_DISABLE_REQUIRE"))) return [];
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in c.Env)
        {
            var eq = e.IndexOf('=');
            if (eq < 0 || !e.StartsWith("NVIDIA_REQUIRE_", StringComparison.Ordinal)) continue;
            var name = e[..eq];
            if (name.StartsWith("NVIDIA_REQUIRE_JETPACK", StringComparison.Ordinal)) continue;
            found[name] = e[(eq + 1)..];
        }
        var list = found.Values.Where(v => v.Trim().Length > 0).ToList();
        if (c.IsLegacyCudaImage) list.Add("cuda>=" + MajorMinor(c.Get("CUDA_VERSION")!));
        return list;
    }

    /// <summary>Throws RequirementException with the original's message for the first unmet requirement.</summary>
    public static void Check(IReadOnlyList<string> requirements, HostFacts host, IReadOnlyList<DeviceFacts> devices)
    {
        foreach (var text in requirements)
        {
            var r = Requirement.Parse(text);
            var ok = devices.Count == 0 ? r.IsSatisfied(host, null) : devices.All(d => r.IsSatisfied(host, d));
            if (ok) continue;
            var token = r.FirstToken;
            var hint = token.StartsWith("cuda>=", StringComparison.Ordinal)
                ? ", please update your driver to a newer version, or use an earlier cuda container" : "";
            throw new RequirementException($"requirement error: unsatisfied condition: {token}{hint}");
        }
    }

    static string MajorMinor(string cudaVersion)
    {
        var parts = cudaVersion.Split('.');
        if (parts.Length < 2 || !uint.TryParse(parts[0], out var major) || !uint.TryParse(parts[1], out var minor))
            throw new RequirementException($"invalid CUDA_VERSION '{cudaVersion}': expected MAJOR.MINOR[.PATCH]");
        return $"{major}.{minor}";
    }

    // strconv.ParseBool's true spellings.
    static bool ParseBool(string? v) => v is "1" or "t" or "T" or "TRUE" or "true" or "True";
}

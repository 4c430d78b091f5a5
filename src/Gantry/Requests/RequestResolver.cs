namespace Gantry.Requests;

// Which devices a container asked for, in the original's order of precedence: CDI annotations (cdi mode only),
// then /dev/null volume mounts under /var/run/nvidia-container-devices (when accepted), then the env vars
// (swarm vars or NVIDIA_VISIBLE_DEVICES), honoured in unprivileged containers only when config allows.
internal static class RequestResolver
{
    public const string VolumeMountRoot = "/var/run/nvidia-container-devices";

    public static ContainerRequest Resolve(ContainerFacts c, RequestOptions o)
    {
        var warnings = new List<string>();
        var mountRequests = o.AcceptVolumeMounts ? FromMounts(c) : [];
        var mountDevices = mountRequests.Where(r => !r.StartsWith("imex/", StringComparison.Ordinal)).Select(ToDeviceName).ToList();
        var mountImex = mountRequests.Where(r => r.StartsWith("imex/", StringComparison.Ordinal)).Select(r => r["imex/".Length..]).ToList();
        var envHonoured = c.Privileged || o.AcceptEnvvarWhenUnprivileged;

        VisibleDevices devices;
        if (FromAnnotations(c, o) is { Count: > 0 } annotated) devices = new VisibleDevices(RequestKind.List, annotated);
        else if (mountDevices.Count > 0) devices = VisibleDevices.Parse(mountDevices);
        else
        {
            var (names, fromEnv) = FromEnv(c, o);
            if (envHonoured) devices = fromEnv;
            else
            {
                if (fromEnv.IsRequested)
                    warnings.Add($"Ignoring devices requested by environment variable(s) in unprivileged container: [{string.Join(" ", names)}]");
                devices = VisibleDevices.NotRequested;
            }
        }
        return new ContainerRequest(devices, Imex(c, o, mountImex, envHonoured), warnings);
    }

    // Keys sorted; each value split on ',' as-is (the original neither trims nor validates here).
    static List<string> FromAnnotations(ContainerFacts c, RequestOptions o)
    {
        if (o.AnnotationPrefixes.Count == 0) return [];
        return c.Annotations.Where(a => o.AnnotationPrefixes.Any(p => a.Key.StartsWith(p, StringComparison.Ordinal)))
            .OrderBy(a => a.Key, StringComparer.Ordinal)
            .SelectMany(a => a.Value.Split(',')).ToList();
    }

    static List<string> FromMounts(ContainerFacts c)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var requests = new List<string>();
        foreach (var (source, destination) in c.Mounts)
        {
            if (Clean(source) != "/dev/null") continue;
            var dest = Clean(destination);
            if (!dest.StartsWith(VolumeMountRoot + "/", StringComparison.Ordinal) || !seen.Add(dest)) continue;
            var request = dest[VolumeMountRoot.Length..].Trim('/');
            if (request.Length > 0) requests.Add(request);
        }
        return requests;
    }

    // cdi/<vendor>/<class>/<device> and cdi/<vendor>/<class>=<device> name CDI devices; the rest are ids.
    static string ToDeviceName(string request)
    {
        if (!request.StartsWith("cdi/", StringComparison.Ordinal)) return request;
        var rest = request["cdi/".Length..];
        if (rest.Contains('=')) return rest;
        var parts = rest.Split('/', 3);
        return parts.Length == 3 ? $"{parts[0]}/{parts[1]}={parts[2]}" : rest;
    }

    static (IReadOnlyList<string> Names, VisibleDevices Devices) FromEnv(ContainerFacts c, RequestOptions o)
    {
        var swarm = o.SwarmResourceVariables.Where(v => c.Get(v) is not null).ToList();
        if (swarm.Count > 0) return (swarm, VisibleDevices.Parse(swarm.Select(v => c.Get(v)!)));
        var value = c.Get("NVIDIA_VISIBLE_DEVICES");
        if (value is null && c.IsLegacyCudaImage) return (["NVIDIA_VISIBLE_DEVICES"], VisibleDevices.All);
        return (["NVIDIA_VISIBLE_DEVICES"], VisibleDevices.Parse(value));
    }

    static IReadOnlyList<string> Imex(ContainerFacts c, RequestOptions o, List<string> fromMounts, bool envHonoured)
    {
        if (o.IgnoreImexChannelRequests) return [];
        if (fromMounts.Count > 0) return fromMounts.Distinct(StringComparer.Ordinal).ToList();
        if (!envHonoured) return [];
        var parsed = VisibleDevices.Parse(c.Get("NVIDIA_IMEX_CHANNELS"));
        return parsed.Kind == RequestKind.List ? parsed.Ids : []; // "all" in env form is ignored, as in the original
    }

    static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == ".") continue;
            if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return (path.StartsWith('/') ? "/" : "") + string.Join('/', parts);
    }
}

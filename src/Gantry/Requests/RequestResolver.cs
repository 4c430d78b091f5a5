namespace Gantry.Requests;

// Which GPUs a container asked for, in the original's order of precedence: CDI annotations (cdi mode only),
// then /dev/null volume mounts under /var/run/nvidia-container-devices (when accepted), then the env vars
// (swarm vars or NVIDIA_VISIBLE_DEVICES), honoured in unprivileged containers only when config allows. The other
// kinds of device (IMEX channels, gated families) are read by their own entries in Devices/DeviceKinds.
internal static class RequestResolver
{
    public const string VolumeMountRoot = "/var/run/nvidia-container-devices";

    /// <param name="mountRequests">The container's volume-mount requests that name GPUs (Devices/ContainerDevices
    /// leaves out those of other kinds), empty unless config accepts volume mounts.</param>
    public static ContainerRequest Resolve(ContainerFacts c, RequestOptions o, IReadOnlyList<string> mountRequests)
    {
        var warnings = new List<string>();
        var mountDevices = mountRequests.Select(ToDeviceName).ToList();
        var envHonoured = c.Privileged || o.AcceptEnvvarWhenUnprivileged;

        VisibleDevices devices;
        IReadOnlyList<KeyValuePair<string, string>> swarmSources = [];
        if (mountDevices.Count > 0) devices = VisibleDevices.Parse(mountDevices);
        else
        {
            var (names, fromEnv) = FromEnv(c, o);
            if (envHonoured)
            {
                devices = fromEnv;
                swarmSources = names.Where(n => o.SwarmResourceVariables.Contains(n, StringComparer.Ordinal))
                    .Select(n => KeyValuePair.Create(n, c.Get(n)!)).ToList();
                // A task given GPUs in a variable swarm-resource does not list would otherwise get the image's
                // NVIDIA_VISIBLE_DEVICES, often every GPU.
                if (swarmSources.Count == 0) SwarmResource.CheckListed(c, o.SwarmResourceVariables);
            }
            else
            {
                if (fromEnv.IsRequested)
                    warnings.Add($"Ignoring devices requested by environment variable(s) in unprivileged container: [{string.Join(" ", names)}]");
                devices = VisibleDevices.NotRequested;
            }
        }
        return new ContainerRequest(devices, warnings) { Annotated = FromAnnotations(c, o), SwarmSources = swarmSources };
    }

    /// <summary>The requests of /dev/null volume mounts under /var/run/nvidia-container-devices, in spec order.</summary>
    public static List<string> VolumeMountRequests(ContainerFacts c) => FromMounts(c);

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

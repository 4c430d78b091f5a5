namespace Gantry.Requests;

/// <summary>The parts of an OCI spec that say what a container wants: its env, mounts, annotations, privilege.</summary>
internal sealed record ContainerFacts(
    IReadOnlyList<string> Env,
    IReadOnlyList<(string Source, string Destination)> Mounts,
    IReadOnlyDictionary<string, string> Annotations,
    bool Privileged)
{
    /// <summary>The value of an env var (the last definition wins, as in a map built from the list), or null.</summary>
    public string? Get(string name)
    {
        string? value = null;
        foreach (var e in Env)
        {
            var eq = e.IndexOf('=');
            var key = eq < 0 ? e : e[..eq];
            if (key == name) value = eq < 0 ? "" : e[(eq + 1)..];
        }
        return value;
    }

    /// <summary>An image built for old toolkits: CUDA_VERSION set and NVIDIA_REQUIRE_CUDA empty.</summary>
    public bool IsLegacyCudaImage => !string.IsNullOrEmpty(Get("CUDA_VERSION")) && string.IsNullOrEmpty(Get("NVIDIA_REQUIRE_CUDA"));
}

/// <summary>How requests are read: from config.toml, and the annotation prefixes of the mode (empty unless cdi).</summary>
internal sealed record RequestOptions
{
    public IReadOnlyList<string> AnnotationPrefixes { get; init; } = [];
    public bool AcceptVolumeMounts { get; init; }
    public bool AcceptEnvvarWhenUnprivileged { get; init; } = true;
    public IReadOnlyList<string> SwarmResourceVariables { get; init; } = [];
    public bool IgnoreImexChannelRequests { get; init; }
}

/// <summary>
/// The GPUs a container asked for, and warnings to log. <see cref="Annotated"/> are the CDI names of its annotations
/// (with the prefixes the options name): in cdi mode they win over everything else, in other modes they do not count.
/// </summary>
internal sealed record ContainerRequest(VisibleDevices Devices, IReadOnlyList<string> Warnings)
{
    public IReadOnlyList<string> Annotated { get; init; } = [];

    /// <summary>The swarm-resource variables (name, value) the devices came from; empty when they did not.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SwarmSources { get; init; } = [];

    /// <summary>The request as a mode sees it: the annotations replace the rest in cdi mode, when there are any.</summary>
    public ContainerRequest For(bool cdiMode) =>
        cdiMode && Annotated.Count > 0 ? new ContainerRequest(new VisibleDevices(RequestKind.List, Annotated), []) : this with { Annotated = [] };

    /// <summary>What auto mode looks at: the annotations when there are any, else the rest.</summary>
    public VisibleDevices WithAnnotations => For(cdiMode: true).Devices;
}

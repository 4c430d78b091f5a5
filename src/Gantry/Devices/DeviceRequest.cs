using Gantry.Requests;

namespace Gantry.Devices;

/// <summary>A container's request for devices of one kind: the ids as the kind reads them ("all" for a family).</summary>
internal sealed record DeviceRequest(DeviceKind Kind, IReadOnlyList<string> Ids)
{
    /// <summary>How the original names it as a just-in-time CDI device (runtime.nvidia.com/gds=all), for messages.</summary>
    public string JitName => $"{DeviceKinds.JitVendor}/{Kind.Name}={string.Join(",", Ids)}";
}

/// <summary>What a kind reads its request from: the container, how config.toml says requests are read, and the
/// container's volume-mount requests (already read, empty unless config accepts them).</summary>
internal sealed record RequestSource(ContainerFacts Facts, RequestOptions Options, IReadOnlyList<string> VolumeMounts)
{
    /// <summary>Whether environment variables count: always in a privileged container, else as config says.</summary>
    public bool EnvHonoured => Facts.Privileged || Options.AcceptEnvvarWhenUnprivileged;
}

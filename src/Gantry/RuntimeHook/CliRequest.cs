using Gantry.Common;
using Gantry.Config;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Requests;

namespace Gantry.RuntimeHook;

// What a container asks nvidia-container-cli for, read from its spec the way the original hook does
// (toolkit.md §1.5, §3): devices from /dev/null volume mounts (when accepted) or the env (swarm variables or
// NVIDIA_VISIBLE_DEVICES), MIG config/monitor devices (privileged containers only), IMEX channels, driver
// capabilities and requirements. No CDI annotations: the hook is the legacy path.
internal sealed record CliRequest(
    VisibleDevices Devices,
    string MigConfigDevices,
    string MigMonitorDevices,
    IReadOnlyList<string> ImexChannels,
    DriverCapability Capabilities,
    IReadOnlyList<string> Requirements,
    IReadOnlyList<string> Warnings)
{
    /// <summary>The swarm-resource variables (name, value) the devices came from; empty when they did not.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SwarmSources { get; init; } = [];

    /// <summary>The request, or null when the container asked for no GPU (the hook then does nothing).</summary>
    public static CliRequest? From(ContainerFacts facts, ToolkitConfig config)
    {
        var supported = DriverCapabilityRequest.ParseSupported(config.SupportedDriverCapabilities);
        var options = new RequestOptions
        {
            AcceptVolumeMounts = config.AcceptsVolumeMounts,
            AcceptEnvvarWhenUnprivileged = config.AcceptsEnvvarWhenUnprivileged,
            SwarmResourceVariables = SwarmVariables(config.SwarmResource),
            IgnoreImexChannelRequests = config.Features.IgnoreImexChannelRequests ?? false,
        };
        var devices = ContainerDevices.Resolve(facts, options);
        var resolved = devices.Gpus;
        if (!resolved.Devices.IsRequested) return null;
        var migConfig = facts.Get("NVIDIA_MIG_CONFIG_DEVICES") ?? "";
        if (migConfig.Length > 0 && !facts.Privileged) throw new GantryException("cannot set MIG_CONFIG_DEVICES in non privileged container");
        var migMonitor = facts.Get("NVIDIA_MIG_MONITOR_DEVICES") ?? "";
        if (migMonitor.Length > 0 && !facts.Privileged) throw new GantryException("cannot set MIG_MONITOR_DEVICES in non privileged container");
        // Of the other kinds, nvidia-container-cli takes IMEX channels (--imex-channel); the gated families are
        // the runtime's jit-cdi mode's only, as in the original.
        var imex = devices.Others.FirstOrDefault(r => r.Kind == DeviceKinds.ImexChannel)?.Ids ?? [];
        return new CliRequest(resolved.Devices, migConfig, migMonitor, imex,
            DriverCapabilityRequest.Resolve(facts, supported), RequirementCheck.Collect(facts, config.DisableRequire), resolved.Warnings)
            { SwarmSources = resolved.SwarmSources };
    }

    // The hook reads swarm-resource as written: unset or empty means no swarm variables (toolkit.md §2).
    static IReadOnlyList<string> SwarmVariables(string? value) =>
        (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The hook only serves legacy mode: config mode "legacy", or "auto" unless every device is a CDI name
    /// (auto then means cdi). Any other mode belongs to nvidia-container-runtime. skip-mode-detection turns this off.
    /// </summary>
    public static void AssertLegacyMode(ToolkitConfig config, VisibleDevices devices)
    {
        if (config.NvidiaContainerRuntimeHook.SkipModeDetection) return;
        var mode = config.NvidiaContainerRuntime.Mode;
        var legacy = mode == "legacy" || (mode is "auto" or "" && ModeResolver.Auto(devices) != RuntimeMode.Cdi);
        if (!legacy)
            throw new GantryException("invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported. " +
                                      "Please use the NVIDIA Container Runtime (e.g. specify the --runtime=nvidia flag) instead");
    }
}

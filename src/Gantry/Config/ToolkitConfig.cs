using Gantry.Common;

namespace Gantry.Config;

// config.toml of the NVIDIA Container Toolkit: every key with the original's default. Plain data; loading and
// saving (with the commented-defaults layout the package install step writes) live beside it.
internal sealed class ToolkitConfig
{
    public bool? AcceptEnvvarUnprivileged { get; set; }          // accept-nvidia-visible-devices-envvar-when-unprivileged (default true)
    public bool? AcceptVolumeMounts { get; set; }                // accept-nvidia-visible-devices-as-volume-mounts (default false)
    public bool DisableRequire { get; set; }
    public string SupportedDriverCapabilities { get; set; } = "compat32,compute,display,graphics,ngx,utility,video";
    public string? SwarmResource { get; set; }                   // default "DOCKER_RESOURCE_GPU" (written commented)
    public CliSection NvidiaContainerCli { get; set; } = new();
    public RuntimeSection NvidiaContainerRuntime { get; set; } = new();
    public HookSection NvidiaContainerRuntimeHook { get; set; } = new();
    public CtkSection NvidiaCtk { get; set; } = new();
    public FeaturesSection Features { get; set; } = new();

    public bool AcceptsEnvvarWhenUnprivileged => AcceptEnvvarUnprivileged ?? true;
    public bool AcceptsVolumeMounts => AcceptVolumeMounts ?? false;
    public IReadOnlyList<string> SwarmResourceVariables =>
        (SwarmResource ?? "DOCKER_RESOURCE_GPU").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}

internal sealed class CliSection
{
    public string? Root { get; set; }            // driver root, "" = "/"
    public string? Path { get; set; }            // nvidia-container-cli binary
    public List<string> Environment { get; set; } = new();
    public string? Debug { get; set; }
    public string? Ldcache { get; set; }
    public bool LoadKmods { get; set; } = true;
    public bool NoPivot { get; set; }            // written only when true
    public bool NoCgroups { get; set; }
    public string? User { get; set; }
    public string Ldconfig { get; set; } = File.Exists("/sbin/ldconfig.real") ? "@/sbin/ldconfig.real" : "@/sbin/ldconfig";
}

internal sealed class RuntimeSection
{
    public string Debug { get; set; } = "/dev/null";
    public string LogLevel { get; set; } = "info";
    public List<string> Runtimes { get; set; } = ["runc", "crun"];
    public string Mode { get; set; } = "auto";
    public string CsvMountSpecPath { get; set; } = "/etc/nvidia-container-runtime/host-files-for-container.d";
    public string? CsvCompatContainerRoot { get; set; }
    public List<string> CdiSpecDirs { get; set; } = ["/etc/cdi", "/var/run/cdi"];
    public string CdiDefaultKind { get; set; } = "nvidia.com/gpu";
    public List<string> CdiAnnotationPrefixes { get; set; } = ["cdi.k8s.io/"];
    public List<string>? JitCdiFeatureFlags { get; set; }
    public List<string>? JitCdiDisableHooks { get; set; }
    public string LegacyCudaCompatMode { get; set; } = "ldconfig";
}

internal sealed class HookSection
{
    public string Path { get; set; } = "nvidia-container-runtime-hook";
    public bool SkipModeDetection { get; set; }
}

internal sealed class CtkSection
{
    public string Path { get; set; } = "nvidia-ctk";
}

internal sealed class FeaturesSection
{
    public bool? AllowCudaCompatLibsFromContainer { get; set; }
    public bool? AllowLdconfigFromContainer { get; set; }
    public bool? AllowUnknownOciSpecFields { get; set; }
    public bool? DisableCudaCompatLibHook { get; set; }
    public bool? DisableImexChannelCreation { get; set; }
    public bool? IgnoreImexChannelRequests { get; set; }
    public bool? NoAdditionalGidsForDeviceNodes { get; set; }
}

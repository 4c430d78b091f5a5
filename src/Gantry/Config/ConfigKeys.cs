namespace Gantry.Config;

internal enum ConfigKeyKind { Bool, OptionalBool, String, OptionalString, StringList, OptionalStringList }

/// <summary>One config.toml key: its dotted path, its type, and how it maps onto <see cref="ToolkitConfig"/>.</summary>
internal sealed record ConfigKey(string Path, ConfigKeyKind Kind, Func<ToolkitConfig, object?> Get, Action<ToolkitConfig, object?> Set)
{
    public string[] Parts { get; } = Path.Split('.');
    public bool IsBool => Kind is ConfigKeyKind.Bool or ConfigKeyKind.OptionalBool;
    public bool IsList => Kind is ConfigKeyKind.StringList or ConfigKeyKind.OptionalStringList;
    /// <summary>Keys the original models as pointers: "nil" deletes them, absence means "unset".</summary>
    public bool IsPointer => Kind is ConfigKeyKind.OptionalBool;
}

// The table of every key the original's Config struct declares (toml tags). Loading, `--set` validation and the
// defaults writer all read this one table, so a key added here is known everywhere; no reflection (NativeAOT).
internal static class ConfigKeys
{
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        B("accept-nvidia-visible-devices-as-volume-mounts", c => c.AcceptVolumeMounts, (c, v) => c.AcceptVolumeMounts = (bool?)v),
        B("accept-nvidia-visible-devices-envvar-when-unprivileged", c => c.AcceptEnvvarUnprivileged, (c, v) => c.AcceptEnvvarUnprivileged = (bool?)v),
        B("disable-require", c => c.DisableRequire, (c, v) => c.DisableRequire = (bool?)v ?? false),
        S("supported-driver-capabilities", c => c.SupportedDriverCapabilities, (c, v) => c.SupportedDriverCapabilities = (string?)v ?? ""),
        S("swarm-resource", c => c.SwarmResource, (c, v) => c.SwarmResource = (string?)v),

        S("nvidia-container-cli.root", c => c.NvidiaContainerCli.Root, (c, v) => c.NvidiaContainerCli.Root = (string?)v),
        S("nvidia-container-cli.path", c => c.NvidiaContainerCli.Path, (c, v) => c.NvidiaContainerCli.Path = (string?)v),
        L("nvidia-container-cli.environment", c => c.NvidiaContainerCli.Environment, (c, v) => c.NvidiaContainerCli.Environment = (List<string>?)v ?? new()),
        S("nvidia-container-cli.debug", c => c.NvidiaContainerCli.Debug, (c, v) => c.NvidiaContainerCli.Debug = (string?)v),
        S("nvidia-container-cli.ldcache", c => c.NvidiaContainerCli.Ldcache, (c, v) => c.NvidiaContainerCli.Ldcache = (string?)v),
        B("nvidia-container-cli.load-kmods", c => c.NvidiaContainerCli.LoadKmods, (c, v) => c.NvidiaContainerCli.LoadKmods = (bool?)v ?? false),
        B("nvidia-container-cli.no-pivot", c => c.NvidiaContainerCli.NoPivot, (c, v) => c.NvidiaContainerCli.NoPivot = (bool?)v ?? false),
        B("nvidia-container-cli.no-cgroups", c => c.NvidiaContainerCli.NoCgroups, (c, v) => c.NvidiaContainerCli.NoCgroups = (bool?)v ?? false),
        S("nvidia-container-cli.user", c => c.NvidiaContainerCli.User, (c, v) => c.NvidiaContainerCli.User = (string?)v),
        S("nvidia-container-cli.ldconfig", c => c.NvidiaContainerCli.Ldconfig, (c, v) => c.NvidiaContainerCli.Ldconfig = (string?)v ?? ""),

        S("nvidia-ctk.path", c => c.NvidiaCtk.Path, (c, v) => c.NvidiaCtk.Path = (string?)v ?? ""),

        S("nvidia-container-runtime.debug", c => c.NvidiaContainerRuntime.Debug, (c, v) => c.NvidiaContainerRuntime.Debug = (string?)v ?? ""),
        S("nvidia-container-runtime.log-level", c => c.NvidiaContainerRuntime.LogLevel, (c, v) => c.NvidiaContainerRuntime.LogLevel = (string?)v ?? ""),
        L("nvidia-container-runtime.runtimes", c => c.NvidiaContainerRuntime.Runtimes, (c, v) => c.NvidiaContainerRuntime.Runtimes = (List<string>?)v ?? new()),
        S("nvidia-container-runtime.mode", c => c.NvidiaContainerRuntime.Mode, (c, v) => c.NvidiaContainerRuntime.Mode = (string?)v ?? ""),
        S("nvidia-container-runtime.modes.csv.mount-spec-path", c => c.NvidiaContainerRuntime.CsvMountSpecPath, (c, v) => c.NvidiaContainerRuntime.CsvMountSpecPath = (string?)v ?? ""),
        S("nvidia-container-runtime.modes.csv.compat-container-root", c => c.NvidiaContainerRuntime.CsvCompatContainerRoot, (c, v) => c.NvidiaContainerRuntime.CsvCompatContainerRoot = (string?)v),
        L("nvidia-container-runtime.modes.cdi.spec-dirs", c => c.NvidiaContainerRuntime.CdiSpecDirs, (c, v) => c.NvidiaContainerRuntime.CdiSpecDirs = (List<string>?)v ?? new()),
        S("nvidia-container-runtime.modes.cdi.default-kind", c => c.NvidiaContainerRuntime.CdiDefaultKind, (c, v) => c.NvidiaContainerRuntime.CdiDefaultKind = (string?)v ?? ""),
        L("nvidia-container-runtime.modes.cdi.annotation-prefixes", c => c.NvidiaContainerRuntime.CdiAnnotationPrefixes, (c, v) => c.NvidiaContainerRuntime.CdiAnnotationPrefixes = (List<string>?)v ?? new()),
        OL("nvidia-container-runtime.modes.jit-cdi.nvcdi-feature-flags", c => c.NvidiaContainerRuntime.JitCdiFeatureFlags, (c, v) => c.NvidiaContainerRuntime.JitCdiFeatureFlags = (List<string>?)v),
        OL("nvidia-container-runtime.modes.jit-cdi.nvcdi-disable-hooks", c => c.NvidiaContainerRuntime.JitCdiDisableHooks, (c, v) => c.NvidiaContainerRuntime.JitCdiDisableHooks = (List<string>?)v),
        S("nvidia-container-runtime.modes.legacy.cuda-compat-mode", c => c.NvidiaContainerRuntime.LegacyCudaCompatMode, (c, v) => c.NvidiaContainerRuntime.LegacyCudaCompatMode = (string?)v ?? ""),

        S("nvidia-container-runtime-hook.path", c => c.NvidiaContainerRuntimeHook.Path, (c, v) => c.NvidiaContainerRuntimeHook.Path = (string?)v ?? ""),
        B("nvidia-container-runtime-hook.skip-mode-detection", c => c.NvidiaContainerRuntimeHook.SkipModeDetection, (c, v) => c.NvidiaContainerRuntimeHook.SkipModeDetection = (bool?)v ?? false),

        F("features.allow-cuda-compat-libs-from-container", c => c.Features.AllowCudaCompatLibsFromContainer, (c, v) => c.Features.AllowCudaCompatLibsFromContainer = v),
        F("features.allow-ldconfig-from-container", c => c.Features.AllowLdconfigFromContainer, (c, v) => c.Features.AllowLdconfigFromContainer = v),
        F("features.allow-unknown-oci-spec-fields", c => c.Features.AllowUnknownOciSpecFields, (c, v) => c.Features.AllowUnknownOciSpecFields = v),
        F("features.disable-cuda-compat-lib-hook", c => c.Features.DisableCudaCompatLibHook, (c, v) => c.Features.DisableCudaCompatLibHook = v),
        F("features.disable-imex-channel-creation", c => c.Features.DisableImexChannelCreation, (c, v) => c.Features.DisableImexChannelCreation = v),
        F("features.ignore-imex-channel-requests", c => c.Features.IgnoreImexChannelRequests, (c, v) => c.Features.IgnoreImexChannelRequests = v),
        F("features.no-additional-gids-for-device-nodes", c => c.Features.NoAdditionalGidsForDeviceNodes, (c, v) => c.Features.NoAdditionalGidsForDeviceNodes = v),
    ];

    static readonly Dictionary<string, ConfigKey> ByPath = All.ToDictionary(k => k.Path, StringComparer.Ordinal);

    public static bool TryFind(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConfigKey? key) =>
        ByPath.TryGetValue(path, out key);

    /// <summary>The table names the struct declares (for "is this a table or a key" questions).</summary>
    public static bool IsTable(string path) => All.Any(k => k.Path.StartsWith(path + ".", StringComparison.Ordinal));

    static ConfigKey B(string p, Func<ToolkitConfig, object?> g, Action<ToolkitConfig, object?> s) => new(p, ConfigKeyKind.Bool, g, s);
    static ConfigKey S(string p, Func<ToolkitConfig, object?> g, Action<ToolkitConfig, object?> s) => new(p, ConfigKeyKind.String, g, s);
    static ConfigKey L(string p, Func<ToolkitConfig, object?> g, Action<ToolkitConfig, object?> s) => new(p, ConfigKeyKind.StringList, g, s);
    static ConfigKey OL(string p, Func<ToolkitConfig, object?> g, Action<ToolkitConfig, object?> s) => new(p, ConfigKeyKind.OptionalStringList, g, s);
    static ConfigKey F(string p, Func<ToolkitConfig, bool?> g, Action<ToolkitConfig, bool?> s) =>
        new(p, ConfigKeyKind.OptionalBool, c => g(c), (c, v) => s(c, (bool?)v));
}

using Gantry.Common;

namespace Gantry.DevicePlugin;

internal enum MigStrategy { None, Single, Mixed }
internal enum DeviceIdStrategy { Uuid, Index }

/// <summary>One replicated resource of sharing.timeSlicing.</summary>
internal sealed record TimeSlicedResource(string Name, string? Rename, int Replicas);

/// <summary>Everything the plugin runs by: flags, their environment variables, then the config file's flags for
/// those not given on the command line or in the environment (upstream's order).</summary>
internal sealed record PluginSettings
{
    public MigStrategy MigStrategy { get; init; } = MigStrategy.None;
    public bool FailOnInitError { get; init; } = true;
    public string DriverRoot { get; init; } = "/";
    public string? DevRoot { get; init; }
    public bool PassDeviceSpecs { get; init; }
    public IReadOnlyList<string> DeviceListStrategies { get; init; } = ["envvar"];
    public DeviceIdStrategy DeviceIdStrategy { get; init; } = DeviceIdStrategy.Uuid;
    public string CdiAnnotationPrefix { get; init; } = "cdi.k8s.io/";
    public string? CdiHookPath { get; init; }
    public string CdiSpecDir { get; init; } = "/var/run/cdi";
    public string CdiVendor { get; init; } = "k8s.device-plugin.nvidia.com";
    public string KubeletDir { get; init; } = "/var/lib/kubelet/device-plugins";
    public string KubeletSocketName { get; init; } = "kubelet.sock";
    public string? ConfigFile { get; init; }
    public bool RenameByDefault { get; init; }
    public bool FailRequestsGreaterThanOne { get; init; }
    public IReadOnlyList<TimeSlicedResource> TimeSliced { get; init; } = [];
    /// <summary>"all", "xids", or extra Xids to ignore (DP_DISABLE_HEALTHCHECKS), minus DP_ENABLE_HEALTHCHECKS.</summary>
    public HealthCheckSettings Health { get; init; } = HealthCheckSettings.Default;

    public static readonly string[] ListStrategies = ["envvar", "volume-mounts", "cdi-annotations", "cdi-cri"];

    public bool UsesCdi => DeviceListStrategies.Any(s => s.StartsWith("cdi-", StringComparison.Ordinal));
    public string KubeletSocket => Path.Combine(KubeletDir, KubeletSocketName);

    /// <summary>The flags that only the device plugin acts on (the kubelet, the Allocate answers, health checks);
    /// gpu-feature-discovery refuses them on its command line, as upstream's labeller has none of them.</summary>
    public static readonly string[] PluginOnlyFlags =
        ["pass-device-specs", "device-list-strategy", "device-id-strategy", "cdi-annotation-prefix", "nvidia-cdi-hook-path", "cdi-spec-dir", "kubelet-socket", "health-recovery"];

    public static FlagSet Flags() => new FlagSet()
        .String("mig-strategy", "the desired strategy for exposing MIG devices: none, single or mixed", "none", env: ["MIG_STRATEGY"])
        .Bool("fail-on-init-error", "fail the plugin if an error is encountered during initialization, otherwise block indefinitely", env: ["FAIL_ON_INIT_ERROR"], dflt: true)
        .String("driver-root", "the root path for the NVIDIA driver installation", "/", aliases: ["nvidia-driver-root"], env: ["NVIDIA_DRIVER_ROOT"])
        .String("dev-root", "the root path for the NVIDIA device nodes (default: the driver root)", aliases: ["nvidia-dev-root"], env: ["NVIDIA_DEV_ROOT"])
        .Bool("pass-device-specs", "pass the list of DeviceSpecs to the kubelet on Allocate()", env: ["PASS_DEVICE_SPECS"])
        .List("device-list-strategy", "how to pass the device list to the runtime: envvar, volume-mounts, cdi-annotations, cdi-cri (several allowed)", "envvar", env: ["DEVICE_LIST_STRATEGY"])
        .String("device-id-strategy", "how devices are named to the runtime: uuid or index", "uuid", env: ["DEVICE_ID_STRATEGY"])
        .String("cdi-annotation-prefix", "the prefix of the CDI annotations of the cdi-annotations strategy", "cdi.k8s.io/", env: ["CDI_ANNOTATION_PREFIX"])
        .String("nvidia-cdi-hook-path", "the nvidia-cdi-hook the generated CDI spec names (default: found on PATH or beside this binary)", env: ["NVIDIA_CDI_HOOK_PATH"])
        .String("cdi-spec-dir", "where the plugin keeps its CDI spec for the cdi-* strategies", "/var/run/cdi", env: ["CDI_SPEC_DIR"])
        .String("kubelet-socket", "the kubelet's registration socket; the plugin's own sockets go beside it", "/var/lib/kubelet/device-plugins/kubelet.sock", env: ["KUBELET_SOCKET"])
        .String("config-file", "the path to a config file (version v1) as an alternative to flags; reloaded when it changes", env: ["CONFIG_FILE"])
        .String("health-recovery", "how long a device that failed must answer NVML without faults to be Healthy again; never: stay Unhealthy as upstream", "30s", env: ["DP_HEALTH_RECOVERY"])
        .Bool("version", "print the version and exit");

    /// <summary>Settings from parsed flags and (when given) the config file. Throws ConfigException or UsageException.</summary>
    public static PluginSettings From(FlagSet f)
    {
        var file = f.Get("config-file") is { Length: > 0 } path ? path : null;
        var cfg = file is null ? null : DevicePlugin.ConfigFile.Load(file);
        var p = cfg?.Flags?.Plugin;
        // A flag set on the command line or by its env var wins; otherwise the file; otherwise the default.
        string S(string flag, string? fromFile) => f.IsSet(flag) || fromFile is null ? f.Get(flag) ?? "" : fromFile;
        bool B(string flag, bool? fromFile) => f.IsSet(flag) || fromFile is null ? f.GetBool(flag) : fromFile.Value;

        var strategies = f.IsSet("device-list-strategy") ? f.GetList("device-list-strategy")
            : DevicePlugin.ConfigFile.Strategies(p?.DeviceListStrategy) ?? f.GetList("device-list-strategy");
        foreach (var s in strategies)
            if (!ListStrategies.Contains(s))
                throw new ConfigException($"invalid device list strategy '{s}': use envvar, volume-mounts, cdi-annotations or cdi-cri");
        if (strategies.Count == 0) throw new ConfigException("--device-list-strategy is empty: use envvar, volume-mounts, cdi-annotations or cdi-cri");

        var kubelet = f.GetOr("kubelet-socket", "/var/lib/kubelet/device-plugins/kubelet.sock");
        var sharing = cfg?.Sharing?.TimeSlicing;
        var replicated = new List<TimeSlicedResource>();
        // As upstream, a name without a domain is in nvidia.com ("gpu.shared" → "nvidia.com/gpu.shared").
        static string? Qualify(string? name) => string.IsNullOrEmpty(name) || name.Contains('/') ? name : "nvidia.com/" + name;
        foreach (var r in sharing?.Resources ?? [])
        {
            r.Name = Qualify(r.Name);
            r.Rename = Qualify(r.Rename);
            if (string.IsNullOrEmpty(r.Name)) throw new ConfigException($"config file {file}: sharing.timeSlicing.resources: an entry without a name");
            if (!r.Name.StartsWith("nvidia.com/", StringComparison.Ordinal))
                throw new ConfigException($"config file {file}: sharing.timeSlicing resource '{r.Name}' is not an nvidia.com/ resource");
            if (r.Replicas is not { } n || n < 1)
                throw new ConfigException($"config file {file}: sharing.timeSlicing resource '{r.Name}' needs replicas of 1 or more");
            if (r.Devices is not null and not "all")
                throw new ConfigException($"config file {file}: sharing.timeSlicing resource '{r.Name}': only 'devices: all' is supported");
            if (r.Rename is { } rename && (rename.StartsWith("kubernetes.io/", StringComparison.Ordinal) || rename.EndsWith('/')))
                throw new ConfigException($"config file {file}: sharing.timeSlicing resource '{r.Name}': '{rename}' is not an extended resource name");
            if (replicated.Any(x => x.Name == r.Name)) throw new ConfigException($"config file {file}: sharing.timeSlicing resource '{r.Name}' is listed twice");
            replicated.Add(new TimeSlicedResource(r.Name, string.IsNullOrEmpty(r.Rename) ? null : r.Rename, n));
        }

        return new PluginSettings
        {
            MigStrategy = S("mig-strategy", cfg?.Flags?.MigStrategy) switch
            {
                "none" => MigStrategy.None, "single" => MigStrategy.Single, "mixed" => MigStrategy.Mixed,
                var other => throw new ConfigException($"invalid MIG strategy '{other}': use none, single or mixed"),
            },
            FailOnInitError = B("fail-on-init-error", cfg?.Flags?.FailOnInitError),
            DriverRoot = S("driver-root", cfg?.Flags?.NvidiaDriverRoot) is { Length: > 0 } d ? d : "/",
            DevRoot = S("dev-root", cfg?.Flags?.NvidiaDevRoot) is { Length: > 0 } dev ? dev : null,
            PassDeviceSpecs = B("pass-device-specs", p?.PassDeviceSpecs),
            DeviceListStrategies = strategies.Distinct().ToList(),
            DeviceIdStrategy = S("device-id-strategy", p?.DeviceIDStrategy) switch
            {
                "uuid" => DeviceIdStrategy.Uuid, "index" => DeviceIdStrategy.Index,
                var other => throw new ConfigException($"invalid device id strategy '{other}': use uuid or index"),
            },
            CdiAnnotationPrefix = S("cdi-annotation-prefix", p?.CdiAnnotationPrefix),
            CdiHookPath = S("nvidia-cdi-hook-path", p?.NvidiaCdiHookPath) is { Length: > 0 } h ? h : null,
            CdiSpecDir = f.GetOr("cdi-spec-dir", "/var/run/cdi"),
            KubeletDir = Path.GetDirectoryName(Path.GetFullPath(kubelet)) ?? "/",
            KubeletSocketName = Path.GetFileName(kubelet),
            ConfigFile = file,
            RenameByDefault = sharing?.RenameByDefault ?? false,
            FailRequestsGreaterThanOne = sharing?.FailRequestsGreaterThanOne ?? false,
            TimeSliced = replicated,
            Health = HealthCheckSettings.FromEnvironment() with { RecoveryAfter = HealthCheckSettings.ParseRecovery(f.GetOr("health-recovery", "30s")) },
        };
    }
}

/// <summary>Which health checks run: none at all, or Xid events minus the ignored ones.</summary>
internal sealed record HealthCheckSettings(bool Enabled, bool Xids, IReadOnlySet<ulong> IgnoredXids)
{
    /// <summary>How long a device must be fault-free (with NVML answering) to be Healthy again; null: never.</summary>
    public TimeSpan? RecoveryAfter { get; init; } = TimeSpan.FromSeconds(30);

    public static TimeSpan? ParseRecovery(string value)
    {
        if (value == "never") return null;
        var v = value.EndsWith('s') ? value[..^1] : value;
        if (double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            return TimeSpan.FromSeconds(seconds);
        throw new ConfigException($"--health-recovery must be seconds (e.g. 30s) or never, got '{value}'");
    }

    // Application errors, not GPU faults (upstream's list): a program's fault must not take the GPU away.
    public static readonly ulong[] ApplicationXids = [13, 31, 43, 45, 68, 109];
    public static HealthCheckSettings Default { get; } = new(true, true, ApplicationXids.ToHashSet());

    public static HealthCheckSettings FromEnvironment() =>
        Parse(Environment.GetEnvironmentVariable("DP_DISABLE_HEALTHCHECKS"), Environment.GetEnvironmentVariable("DP_ENABLE_HEALTHCHECKS"));

    public static HealthCheckSettings Parse(string? disable, string? enable)
    {
        var ignored = ApplicationXids.ToHashSet();
        var enabled = true;
        var xids = true;
        foreach (var item in Split(disable))
        {
            if (item == "all") enabled = false;
            else if (item == "xids") xids = false;
            else if (ulong.TryParse(item, out var x)) ignored.Add(x);
            else throw new ConfigException($"DP_DISABLE_HEALTHCHECKS: '{item}' is not all, xids or an Xid number");
        }
        foreach (var item in Split(enable))
        {
            if (item == "all") { enabled = true; xids = true; }
            else if (item == "xids") xids = true;
            else if (ulong.TryParse(item, out var x)) ignored.Remove(x);
            else throw new ConfigException($"DP_ENABLE_HEALTHCHECKS: '{item}' is not all, xids or an Xid number");
        }
        return new HealthCheckSettings(enabled, xids, ignored);
    }

    static IEnumerable<string> Split(string? v) =>
        (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant());
}

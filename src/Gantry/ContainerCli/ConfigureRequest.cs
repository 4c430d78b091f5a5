using Gantry.Discovery;

namespace Gantry.ContainerCli;

/// <summary>What `configure` was asked to do, as parsed from its options (the original's container and driver option strings).</summary>
internal sealed record ConfigureRequest
{
    public const int MaxRequirements = 32;

    /// <summary>--pid (supervised); null means the parent process, read through the rootfs's /proc (standalone).</summary>
    public int? Pid { get; init; }
    public required string Rootfs { get; init; }
    public string? Devices { get; init; }
    public List<string> Requirements { get; init; } = [];
    public string? Ldconfig { get; init; }
    public DriverCapability Capabilities { get; init; }
    public bool NoCgroups { get; init; }
    public bool NoDevbind { get; init; }
    public DriverOptions DriverOptions { get; init; } = new();
    public string? MigConfig { get; init; }
    public string? MigMonitor { get; init; }
    public string? ImexChannels { get; init; }
    public CudaCompatMode CompatMode { get; init; } = CudaCompatMode.Mount;

    public bool Compat32 => (Capabilities & DriverCapability.Compat32) != 0;

    public static readonly ArgpOption[] Options =
    [
        new("pid", 'p', ArgpArg.Required, "PID", "Process ID of the container's init (default: the parent process)"),
        new("device", 'd', ArgpArg.Required, "ID", "GPU UUID(s), bus id(s), index(es) or MIG device(s) to expose, or 'all'"),
        new("require", 'r', ArgpArg.Required, "EXPR", "Condition the driver and GPUs must satisfy (repeatable)"),
        new("ldconfig", 'l', ArgpArg.Required, "PATH", "ldconfig to run; a leading '@' names a binary on the host"),
        new("compute", 'c', ArgpArg.None, null, "Enable the compute capability"),
        new("utility", 'u', ArgpArg.None, null, "Enable the utility capability"),
        new("video", 'v', ArgpArg.None, null, "Enable the video capability"),
        new("graphics", 'g', ArgpArg.None, null, "Enable the graphics capability"),
        new("display", 'D', ArgpArg.None, null, "Enable the display capability"),
        new("ngx", 'n', ArgpArg.None, null, "Enable the ngx capability"),
        new("compat32", null, ArgpArg.None, null, "Also expose the 32-bit libraries"),
        new("mig-config", null, ArgpArg.Required, "ID", "MIG devices whose config capabilities to expose ('all')"),
        new("mig-monitor", null, ArgpArg.Required, "ID", "MIG devices whose monitor capabilities to expose ('all')"),
        new("imex-channel", null, ArgpArg.Required, "CHANNEL", "IMEX channel ID(s) to expose"),
        new("no-cgroups", null, ArgpArg.None, null, "Leave the device cgroup alone"),
        new("no-devbind", null, ArgpArg.None, null, "Do not bind-mount device nodes (cgroup rules are still added)"),
        new("no-persistenced", null, ArgpArg.None, null, "Leave out the persistence daemon's socket"),
        new("no-fabricmanager", null, ArgpArg.None, null, "Leave out the fabric manager's socket"),
        new("no-gsp-firmware", null, ArgpArg.None, null, "Leave out the GSP firmware"),
        new("no-cntlibs", null, ArgpArg.None, null, "Ignore the container's CUDA compat libraries (cuda-compat-mode=disabled)"),
        new("cuda-compat-mode", null, ArgpArg.Required, "MODE", "CUDA compat libraries: mount (default), ldconfig or disabled"),
    ];

    static readonly (string Flag, DriverCapability Cap)[] CapabilityFlags =
    [
        ("compute", DriverCapability.Compute), ("utility", DriverCapability.Utility), ("video", DriverCapability.Video),
        ("graphics", DriverCapability.Graphics), ("display", DriverCapability.Display), ("ngx", DriverCapability.Ngx),
        ("compat32", DriverCapability.Compat32),
    ];

    /// <summary>Builds the request from parsed options; the rootfs operand is checked as the original does.</summary>
    public static ConfigureRequest From(ArgpResult p)
    {
        var rootfs = p.Operands[0];
        if (!rootfs.StartsWith('/') || rootfs.Trim('/').Length == 0)
            throw new ContainerCliException("input error: invalid rootfs directory");
        var caps = DriverCapability.None;
        foreach (var (flag, cap) in CapabilityFlags)
            if (p.Has(flag)) caps |= cap;
        var requirements = Values(p, "require");
        if (requirements.Count > MaxRequirements) throw new ContainerCliException("input error: too many requirements");
        // The last --cuda-compat-mode wins; --no-cntlibs (or disabled) wins over any other mode, as in the original.
        var mode = Values(p, "cuda-compat-mode") is { Count: > 0 } modes ? CudaCompatLibs.ParseMode(modes[^1]) : CudaCompatMode.Mount;
        if (p.Has("no-cntlibs")) mode = CudaCompatMode.Disabled;
        return new ConfigureRequest
        {
            Pid = Values(p, "pid") is { Count: > 0 } pids ? ParsePid(pids[^1]) : null,
            Rootfs = rootfs,
            Devices = Joined(p, "device"),
            Requirements = requirements,
            Ldconfig = Values(p, "ldconfig") is { Count: > 0 } l ? l[^1] : null,
            Capabilities = caps,
            NoCgroups = p.Has("no-cgroups"),
            NoDevbind = p.Has("no-devbind"),
            DriverOptions = new DriverOptions(p.Has("no-persistenced"), p.Has("no-fabricmanager"), p.Has("no-gsp-firmware")),
            MigConfig = Joined(p, "mig-config"),
            MigMonitor = Joined(p, "mig-monitor"),
            ImexChannels = Joined(p, "imex-channel"),
            CompatMode = mode,
        };
    }

    static List<string> Values(ArgpResult p, string name) => p.Options.Where(o => o.Name == name).Select(o => o.Value!).ToList();

    static string? Joined(ArgpResult p, string name) => Values(p, name) is { Count: > 0 } v ? string.Join(',', v) : null;

    // strtol-style: decimal digits only, a positive pid that fits in pid_t.
    static int ParsePid(string value)
    {
        if (value.Length == 0 || !value.All(char.IsAsciiDigit))
            throw new ContainerCliException("input error: parse pid failed: invalid argument");
        if (!int.TryParse(value, out var pid)) throw new ContainerCliException("input error: parse pid failed: numerical result out of range");
        if (pid <= 0) throw new ContainerCliException("input error: parse pid failed: invalid argument");
        return pid;
    }
}

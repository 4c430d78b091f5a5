using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.ContainerCli;

/// <summary>A host device node to expose: where it goes in the container, where it is on the host, its numbers.</summary>
internal sealed record HostDevice(string ContainerPath, string HostPath, uint Major, uint Minor);

/// <summary>A host file or directory bound at a container path.</summary>
internal sealed record HostFile(string HostPath, string ContainerPath);

/// <summary>A selected GPU: its node and its /proc/driver/nvidia/gpus directory (null when the host has none).</summary>
internal sealed record SelectedGpu(int Minor, HostDevice Node, HostFile? ProcDirectory);

/// <summary>
/// Everything the planner needs, read from the host (discovery, /proc, device nodes) and the rootfs (layout) before
/// the plan is made, so that <see cref="ConfigurePlanner"/> is a pure function of it.
/// </summary>
internal sealed record ConfigureInputs
{
    public required string NvrmVersion { get; init; }
    public required DriverCapability Capabilities { get; init; }
    public bool NoCgroups { get; init; }
    public bool NoDevbind { get; init; }
    public required ContainerLayout Layout { get; init; }
    public CudaCompatMode CompatMode { get; init; }
    /// <summary>--ldconfig as given ("@/sbin/ldconfig" = host); null = the container's own.</summary>
    public string? Ldconfig { get; init; }
    public IReadOnlyList<string> Libraries { get; init; } = [];
    public IReadOnlyList<string> Libraries32 { get; init; } = [];
    public IReadOnlyList<string> Binaries { get; init; } = [];
    public IReadOnlyList<HostFile> Ipcs { get; init; } = [];
    public IReadOnlyList<HostFile> Firmware { get; init; } = [];
    /// <summary>params, version, registry of the host's /proc/driver/nvidia: (name, text, mode).</summary>
    public IReadOnlyList<(string Name, string Content, int Mode)> ProcDriverFiles { get; init; } = [];
    public IReadOnlyList<HostDevice> ControlDevices { get; init; } = [];
    public IReadOnlyList<SelectedGpu> Gpus { get; init; } = [];
    /// <summary>MIG capability files (access files, or the whole capabilities directory for mig-config/monitor=all).</summary>
    public IReadOnlyList<HostFile> MigProcFiles { get; init; } = [];
    public IReadOnlyList<HostDevice> MigDevices { get; init; } = [];
    /// <summary>/dev/nvidia-caps bound as a directory (mig-config/monitor=all with capability device nodes).</summary>
    public HostFile? MigDeviceDirectory { get; init; }
    /// <summary>Cgroup rules for capability nodes reachable through that directory: (major, minor).</summary>
    public IReadOnlyList<(uint Major, uint Minor)> MigDirectoryRules { get; init; } = [];
    public IReadOnlyList<HostDevice> ImexChannels { get; init; } = [];
    /// <summary>False on WSL2 and Tegra: no /proc/driver/nvidia tmpfs and no application profile (the original skips both there).</summary>
    public bool NativeDriver { get; init; } = true;
    /// <summary>Files and directories bound read-only at their own path: WSL's driver store, Tegra's CSV libraries and dirs.</summary>
    public IReadOnlyList<HostFile> SamePathFiles { get; init; } = [];
    /// <summary>Symlinks made in the container (Tegra's sym entries): path, target.</summary>
    public IReadOnlyList<(string Path, string Target)> Symlinks { get; init; } = [];
    /// <summary>Directories ldconfig also scans (those of Tegra's CSV libraries).</summary>
    public IReadOnlyList<string> LdconfigFolders { get; init; } = [];
}

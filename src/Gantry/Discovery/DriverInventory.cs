using Gantry.Host;

namespace Gantry.Discovery;

/// <summary>Everything discovery found on a host. Paths are host paths (driver root or device root included).</summary>
internal sealed record DriverInventory
{
    public required HostRoots Roots { get; init; }
    public required string Version { get; init; }
    public string? CudaVersion { get; init; }
    /// <summary>Where the GPU facts came from: "nvml" or "procfs".</summary>
    public required string GpuSource { get; init; }
    public required IReadOnlyList<GpuInfo> Gpus { get; init; }
    /// <summary>Directories holding lib*.so.VERSION (NVIDIA_CTK_LIBCUDA_DIR).</summary>
    public required IReadOnlyList<string> LibraryDirectories { get; init; }
    /// <summary>Every *.so.VERSION library in those directories and their vdpau subdirectory, plus nvvm70.</summary>
    public required IReadOnlyList<string> Libraries { get; init; }
    /// <summary>The 32-bit *.so.VERSION libraries (DiscoveryOptions.Compat32; empty otherwise).</summary>
    public IReadOnlyList<string> Libraries32 { get; init; } = [];
    public required IReadOnlyList<string> Binaries { get; init; }
    public required IReadOnlyList<string> Firmware { get; init; }
    public required IReadOnlyList<string> IpcSockets { get; init; }
    public required GraphicsFiles Graphics { get; init; }
    /// <summary>nvidia-modeset, nvidia-uvm-tools, nvidia-uvm, nvidiactl that exist under the device root.</summary>
    public required IReadOnlyList<string> ControlNodes { get; init; }
    public required IReadOnlyList<string> ImexChannels { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>True when the device root is a simulated host that uses plain files for device nodes.</summary>
    public bool AcceptsPlainDeviceFiles { get; init; }
}

/// <summary>Files the graphics stack needs. Configs carry the container path they are mounted at.</summary>
internal sealed record GraphicsFiles(
    IReadOnlyList<string> Libraries,
    IReadOnlyList<string> XorgModules,
    IReadOnlyList<string> Binaries,
    IReadOnlyList<(string HostPath, string ContainerPath)> Configs,
    IReadOnlyList<(string Target, string Link)> Symlinks)
{
    public static GraphicsFiles Empty { get; } = new([], [], [], [], []);
}

using Gantry.Config;
using Gantry.Host;

namespace Gantry.Diagnostics;

/// <summary>
/// Where doctor looks. Every path is configurable so that tests point it at a simulated host and temp files:
/// the driver, device, proc and sys roots, and a host root under which /etc, /usr/bin and /sbin are read
/// (daemon.json, config.toml, the CDI spec directories, ldconfig, the binaries dockerd finds on its PATH).
/// </summary>
internal sealed record DoctorSetup
{
    public required HostRoots Roots { get; init; }
    public string HostRoot { get; init; } = "/";
    /// <summary>Docker's daemon.json (default HOST/etc/docker/daemon.json).</summary>
    public string? DaemonJson { get; init; }
    /// <summary>The toolkit's config.toml (default HOST/$NVIDIA_CTK_CONFIG_FILE_PATH or HOST/etc/nvidia-container-runtime/config.toml).</summary>
    public string? ToolkitConfig { get; init; }
    /// <summary>The CDI spec directories (default: config.toml's spec-dirs under HOST).</summary>
    public IReadOnlyList<string>? CdiSpecDirs { get; init; }
    /// <summary>Where the /dev/char links are (default DEV/dev/char).</summary>
    public string? DevCharDir { get; init; }
    /// <summary>dockerd's PATH (default: a running dockerd's, else systemd's default PATH).</summary>
    public string? EnginePath { get; init; }
    /// <summary>The nvidia-cdi-hook a regenerated spec names (default: as `nvidia-ctk cdi generate` finds it).</summary>
    public string? CdiHookPath { get; init; }

    /// <summary>This gantry executable: what a missing hook or runtime name can be linked to.</summary>
    public string? SelfPath { get; init; } = Environment.ProcessPath;

    public string InHost(string path) => HostRoots.Join(System.IO.Path.GetFullPath(HostRoot), path);

    public string DaemonJsonPath => DaemonJson ?? InHost("/etc/docker/daemon.json");
    public string ToolkitConfigPath => ToolkitConfig ?? InHost(ToolkitConfigFile.DefaultPath());
    public string DevCharPath => DevCharDir ?? Roots.InDevRoot("/dev/char");

    /// <summary>The flags a printed command needs to see the same driver ("" for a plain host).</summary>
    public string RootFlags =>
        (Roots.DriverRoot == "/" ? "" : $" --driver-root={Roots.DriverRoot}") +
        (Roots.DevRoot == Roots.DriverRoot ? "" : $" --dev-root={Roots.DevRoot}");
}

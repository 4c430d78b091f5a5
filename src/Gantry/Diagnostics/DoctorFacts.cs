using System.Text.Json;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Config;
using Gantry.Discovery;

namespace Gantry.Diagnostics;

/// <summary>What the checks share, read once: config.toml, the driver inventory, daemon.json, dockerd's PATH.
/// A part that cannot be read is kept as its error, which the check that owns it reports.</summary>
internal sealed class DoctorFacts
{
    /// <summary>The PATH systemd gives a service without one of its own (dockerd.service sets none).</summary>
    public const string ServicePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public required DoctorSetup Setup { get; init; }
    public ToolkitConfig? Config { get; init; }
    public string? ConfigError { get; init; }
    public bool ConfigExists { get; init; }
    public DriverInventory? Inventory { get; init; }
    public string? DriverError { get; init; }
    public string? DaemonJsonText { get; init; }
    public JsonObject? DaemonJson { get; init; }
    public string? DaemonJsonError { get; init; }
    public required string EnginePath { get; init; }
    public required string EnginePathSource { get; init; }
    /// <summary>Why the engine is taken to be rootless (a rootlesskit process, a dockerd not run by root); null when it is not.</summary>
    public string? Rootless { get; init; }
    public bool DockerdRunning { get; init; }

    /// <summary>The configuration the checks use: the file's, or the defaults where it could not be read.</summary>
    public ToolkitConfig EffectiveConfig => Config ?? new ToolkitConfig();

    /// <summary>True where Docker is installed, running or configured: its checks apply.</summary>
    public bool DockerInUse => DockerdRunning || DaemonJsonText is not null || Which("dockerd") is not null;

    public static DoctorFacts Gather(DoctorSetup setup)
    {
        ToolkitConfig? config = null;
        string? configError = null;
        var configPath = setup.ToolkitConfigPath;
        try { config = ToolkitConfigFile.Load(configPath); }
        catch (GantryException e) { configError = e.Message; }

        DriverInventory? inventory = null;
        string? driverError = null;
        try { inventory = DriverDiscovery.Discover(setup.Roots, new DiscoveryOptions { Graphics = false }, Log.Silent); }
        catch (GantryException e) { driverError = e.Message; }

        string? daemonText = null, daemonError = null;
        JsonObject? daemon = null;
        var daemonPath = setup.DaemonJsonPath;
        try
        {
            if (File.Exists(daemonPath))
            {
                daemonText = File.ReadAllText(daemonPath);
                if (!string.IsNullOrWhiteSpace(daemonText))
                {
                    daemon = JsonNode.Parse(daemonText) as JsonObject;
                    if (daemon is null) daemonError = $"{daemonPath}: the top level is not a JSON object";
                    else _ = daemon.Count; // duplicate keys fail here
                }
                else daemon = new JsonObject();
            }
        }
        catch (JsonException e) { daemonError = $"{daemonPath}: invalid JSON: {e.Message.Split(" Path:")[0]}"; daemon = null; }
        catch (ArgumentException e) { daemonError = $"{daemonPath}: invalid JSON: {e.Message}"; daemon = null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { daemonError = $"cannot read {daemonPath}: {e.Message}"; }

        var processes = EngineProcesses.Read(setup.Roots.ProcRoot);
        var dockerd = processes.FirstOrDefault(p => p.Name == "dockerd");
        var (path, source) = setup.EnginePath is { } given ? (given, "as given")
            : dockerd?.PathVariable is { } running ? (running, $"dockerd (pid {dockerd.Pid})")
            : (ServicePath, "systemd's default; no dockerd is running");
        string? rootless = processes.FirstOrDefault(p => p.Name == "rootlesskit") is { } kit ? $"rootlesskit runs (pid {kit.Pid})"
            : dockerd is { Uid: > 0 } ? $"dockerd (pid {dockerd.Pid}) runs as uid {dockerd.Uid}" : null;

        return new DoctorFacts
        {
            Setup = setup, Config = config, ConfigError = configError, ConfigExists = File.Exists(configPath),
            Inventory = inventory, DriverError = driverError,
            DaemonJsonText = daemonText, DaemonJson = daemon, DaemonJsonError = daemonError,
            EnginePath = path, EnginePathSource = source, Rootless = rootless, DockerdRunning = dockerd is not null,
        };
    }

    /// <summary>An executable found as dockerd would find it (a name on its PATH, under the host root): its path as the host names it.</summary>
    public string? Which(string name)
    {
        if (name.StartsWith('/')) return IsExecutable(Setup.InHost(name)) ? name : null;
        foreach (var dir in EnginePath.Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (dir.StartsWith('/') && IsExecutable(Setup.InHost(Path.Combine(dir, name)))) return Path.Combine(dir, name);
        return null;
    }

    public static bool IsExecutable(string path)
    {
        try
        {
            return File.Exists(path) &&
                   (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

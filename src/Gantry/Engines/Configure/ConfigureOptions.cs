namespace Gantry.Engines.Configure;

internal enum EngineKind { Docker, Containerd, Crio }

/// <summary>What `nvidia-ctk runtime configure` was asked to do, with the runtime-specific defaults resolved.</summary>
internal sealed record ConfigureOptions(
    EngineKind Engine,
    string ConfigPath,
    string DropInPath,
    string RuntimeName = "nvidia",
    string RuntimePath = "nvidia-container-runtime",
    bool SetAsDefault = false,
    bool EnableCdi = false,
    bool Undo = false)
{
    /// <summary>Docker Swarm: the generic-resource kind this node's GPUs are advertised as (null: no Swarm set-up).</summary>
    public string? SwarmKind { get; init; }
    /// <summary>This node's GPU (or MIG device) UUIDs, advertised as SwarmKind=UUID in daemon.json.</summary>
    public IReadOnlyList<string> SwarmIds { get; init; } = [];
    /// <summary>The toolkit's config.toml, whose swarm-resource is set to DOCKER_RESOURCE_&lt;SwarmKind&gt;.</summary>
    public string? ToolkitConfigPath { get; init; }
}

/// <summary>One file the edit produces: new text, or null to delete it. Our own drop-ins need no backup.</summary>
internal sealed record FileChange(string Path, string? Text, bool Backup = true)
{
    /// <summary>The text is the backup's: once written, the backup is removed (configure is wholly undone).</summary>
    public bool RestoresBackup { get; init; }
}

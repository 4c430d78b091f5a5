namespace Gantry.Config;

// Stub, filled in by the config work: where config.toml is and how it is read.
internal static class ToolkitConfigFile
{
    /// <summary>NVIDIA_CTK_CONFIG_FILE_PATH, else $XDG_CONFIG_HOME/nvidia-container-runtime/config.toml, else /etc/….</summary>
    public static string DefaultPath() => throw new NotImplementedException();

    /// <summary>Reads a config file; a missing file gives the defaults; a malformed one throws GantryException naming the file.</summary>
    public static ToolkitConfig Load(string? path = null) => throw new NotImplementedException();
}

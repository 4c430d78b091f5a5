using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Gantry.NvidiaDocker;

// The one volume nvidia-docker 1.0 knows: the driver's user-space files, named after the driver version
// ("nvidia_driver_550.54.15"), mounted read-only at /usr/local/nvidia, served by the plugin "nvidia-docker".
internal static partial class DriverVolume
{
    public const string Name = "nvidia_driver";
    public const string Mountpoint = "/usr/local/nvidia";
    public const string MountOptions = "ro";
    /// <summary>The volume driver (plugin) name Docker looks up: socket nvidia-docker.sock or spec nvidia-docker.spec.</summary>
    public const string PluginName = "nvidia-docker";

    public static string VolumeName(string driverVersion) => $"{Name}_{driverVersion}";

    /// <summary>The --volume value: "nvidia_driver_550.54.15:/usr/local/nvidia:ro".</summary>
    public static string VolumeArgument(string driverVersion) => $"{VolumeName(driverVersion)}:{Mountpoint}:{MountOptions}";

    // \z, not $: .NET's $ would also match before a trailing newline, Go's does not.
    [GeneratedRegex(@"^([a-zA-Z0-9_.-]+)_([0-9.]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameFormat();

    /// <summary>Splits "nvidia_driver_550.54.15" into its volume and version; error is the plugin's message otherwise.</summary>
    public static bool TryParse(string name, [NotNullWhen(true)] out string? version, [NotNullWhen(false)] out string? error)
    {
        version = null;
        var m = NameFormat().Match(name);
        if (!m.Success) { error = VolumeErrors.BadFormat(name); return false; }
        // "." and ".." name no version, only directories around the volumes (the original removed the parent).
        if (m.Groups[2].Value.All(c => c == '.')) { error = VolumeErrors.BadFormat(name); return false; }
        if (m.Groups[1].Value != Name) { error = VolumeErrors.Unsupported(name); return false; }
        version = m.Groups[2].Value;
        error = null;
        return true;
    }
}

/// <summary>The plugin's volume errors, worded as nvidia-docker-plugin words them ("&lt;what&gt;: &lt;name&gt;").</summary>
internal static class VolumeErrors
{
    public static string BadFormat(string name) => $"bad volume format: {name}";
    public static string Unsupported(string name) => $"unsupported volume: {name}";
    public static string NotFound(string name) => $"no such volume: {name}";
    public static string WrongVersion(string name) => $"invalid volume version: {name}";
}

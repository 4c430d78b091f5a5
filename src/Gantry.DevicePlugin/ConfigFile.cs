using System.Text.Json;
using System.Text.Json.Serialization;
using SharpYaml;
using SharpYaml.Serialization;

namespace Gantry.DevicePlugin;

// The upstream plugin's YAML config file (version v1): flags, sharing.timeSlicing. Unknown keys are skipped, as
// upstream does, so a Helm values file written for a newer plugin still loads; what is read is checked.
internal sealed class ConfigFileModel
{
    public string? Version { get; set; }
    public ConfigFlags? Flags { get; set; }
    public ConfigSharing? Sharing { get; set; }
}

internal sealed class ConfigFlags
{
    public string? MigStrategy { get; set; }
    public bool? FailOnInitError { get; set; }
    public string? NvidiaDriverRoot { get; set; }
    public string? NvidiaDevRoot { get; set; }
    public ConfigPluginFlags? Plugin { get; set; }
    public ConfigGfdFlags? Gfd { get; set; }
}

internal sealed class ConfigPluginFlags
{
    public bool? PassDeviceSpecs { get; set; }
    // A list, or one string (upstream accepts both).
    public object? DeviceListStrategy { get; set; }
    public string? DeviceIDStrategy { get; set; }
    public string? CdiAnnotationPrefix { get; set; }
    public string? NvidiaCdiHookPath { get; set; }
    public string? ContainerDriverRoot { get; set; }
}

internal sealed class ConfigGfdFlags
{
    public bool? Oneshot { get; set; }
    public bool? NoTimestamp { get; set; }
    public string? OutputFile { get; set; }
    public string? SleepInterval { get; set; }
    public string? MachineTypeFile { get; set; }
}

internal sealed class ConfigSharing
{
    public ConfigTimeSlicing? TimeSlicing { get; set; }
    public ConfigTimeSlicing? Mps { get; set; }
}

internal sealed class ConfigTimeSlicing
{
    public bool? RenameByDefault { get; set; }
    public bool? FailRequestsGreaterThanOne { get; set; }
    public List<ConfigReplicatedResource>? Resources { get; set; }
}

internal sealed class ConfigReplicatedResource
{
    public string? Name { get; set; }
    public string? Rename { get; set; }
    public int? Replicas { get; set; }
    public object? Devices { get; set; }
}

[YamlSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[YamlSerializable(typeof(ConfigFileModel))]
internal sealed partial class DevicePluginYamlContext : YamlSerializerContext;

internal static class ConfigFile
{
    /// <summary>Reads and parses; a missing, unreadable or malformed file is a ConfigException naming the file.</summary>
    public static ConfigFileModel Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new ConfigException($"config file {path}: cannot read: {e.Message}"); }
        return Parse(text, path);
    }

    public static ConfigFileModel Parse(string text, string source)
    {
        ConfigFileModel? model;
        try { model = YamlSerializer.Deserialize(text, DevicePluginYamlContext.Default.ConfigFileModel); }
        catch (Exception e) when (e is YamlException or JsonException or InvalidOperationException or FormatException or InvalidCastException)
        { throw new ConfigException($"config file {source}: not valid YAML for the plugin's config: {e.Message}"); }
        if (model is null) throw new ConfigException($"config file {source}: empty");
        if (model.Version is null) throw new ConfigException($"config file {source}: missing 'version' (want v1)");
        if (model.Version != "v1") throw new ConfigException($"config file {source}: unknown version '{model.Version}' (want v1)");
        if (model.Sharing?.Mps is not null)
            throw new ConfigException($"config file {source}: sharing.mps is not supported by this plugin; use sharing.timeSlicing");
        return model;
    }

    /// <summary>deviceListStrategy as upstream reads it: one string or a list of strings.</summary>
    public static List<string>? Strategies(object? value) => value switch
    {
        null => null,
        string s => [s],
        IEnumerable<object?> list => list.Select(o => o?.ToString() ?? "").ToList(),
        _ => [value.ToString() ?? ""],
    };
}

internal sealed class ConfigException(string message) : Exception(message);

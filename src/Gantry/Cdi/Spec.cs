using Gantry.Edits;

namespace Gantry.Cdi;

// A CDI spec file: named container edits (devices) plus edits common to every device of the spec.
internal sealed class Spec
{
    public string CdiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public Dictionary<string, string>? Annotations { get; set; }
    public List<Device> Devices { get; set; } = new();
    public ContainerEdits? ContainerEdits { get; set; }
}

internal sealed class Device
{
    public string Name { get; set; } = "";
    public Dictionary<string, string>? Annotations { get; set; }
    public ContainerEdits ContainerEdits { get; set; } = new();
}

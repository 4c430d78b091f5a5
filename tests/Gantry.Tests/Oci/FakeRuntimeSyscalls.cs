using Gantry.Host;

namespace Gantry.Tests.Oci;

/// <summary>Device nodes by path, and a record of what would have been exec'd.</summary>
internal sealed class FakeRuntimeSyscalls : IRuntimeSyscalls
{
    public Dictionary<string, DeviceNumber> Devices { get; } = new()
    {
        ["/dev/nvidia0"] = new("c", 195, 0), ["/dev/nvidia1"] = new("c", 195, 1), ["/dev/nvidiactl"] = new("c", 195, 255),
    };
    public List<string[]> Execs { get; } = new();

    public int StatDevice(string path, out DeviceNumber device) =>
        Devices.TryGetValue(path, out device) ? 0 : File.Exists(path) ? -19 : -2;

    public int Exec(string path, string[] argv) { Execs.Add([path, .. argv]); return -38; }
}

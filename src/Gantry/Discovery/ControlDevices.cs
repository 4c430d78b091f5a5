using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery;

/// <summary>A character device node to create: the path under the device root and its numbers.</summary>
internal sealed record CharDevice(string Path, uint Major, uint Minor);

/// <summary>The driver's control devices: nvidiactl and nvidia-modeset on the nvidia major, the two uvm nodes on nvidia-uvm's.</summary>
internal static class ControlDevices
{
    public static List<CharDevice> For(string devRoot, IReadOnlyDictionary<string, uint> majors, string procDevicesPath)
    {
        var nvidia = majors.TryGetValue("nvidia", out var n) ? n : majors.TryGetValue("nvidia-frontend", out var f) ? f
            : throw new GantryException($"no 'nvidia' or 'nvidia-frontend' major in {procDevicesPath}; is the NVIDIA kernel module loaded?");
        var uvm = majors.TryGetValue("nvidia-uvm", out var u) ? u
            : throw new GantryException($"no 'nvidia-uvm' major in {procDevicesPath}; is the nvidia-uvm kernel module loaded?");
        string P(string name) => HostRoots.Join(devRoot, "/dev/" + name);
        return [new(P("nvidiactl"), nvidia, 255), new(P("nvidia-modeset"), nvidia, 254), new(P("nvidia-uvm"), uvm, 0), new(P("nvidia-uvm-tools"), uvm, 1)];
    }
}

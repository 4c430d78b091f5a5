using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.NvidiaCtk.HostSystem;

// Every NVIDIA device node the driver could create on this host: one /dev/nvidiaN per NVIDIA display-class PCI
// device, the control nodes, and a /dev/nvidia-caps/nvidia-capN per MIG capability in mig-minors.
internal static class PossibleNodes
{
    public static List<CharDevice> All(HostRoots roots)
    {
        var procDevices = roots.InProc("devices");
        if (!ProcDevices.TryRead(roots, out var majors))
            throw new GantryException($"cannot read {procDevices} to find the NVIDIA device majors");
        string P(string rel) => HostRoots.Join(roots.DevRoot, rel);
        var nodes = new List<CharDevice>();
        var gpus = CountGpus(roots);
        var control = ControlDevices.For(roots.DevRoot, majors, procDevices);
        for (var i = 0; i < gpus; i++) nodes.Add(new CharDevice(P($"/dev/nvidia{i}"), control[0].Major, (uint)i));
        nodes.AddRange(control);
        var migMinors = ProcDriver.MigMinors(roots);
        if (migMinors.Count > 0)
        {
            var caps = majors.TryGetValue("nvidia-caps", out var c) ? c
                : throw new GantryException($"no 'nvidia-caps' major in {procDevices}, but {roots.InProc("driver/nvidia-caps/mig-minors")} lists MIG capabilities");
            foreach (var (key, minor) in migMinors.OrderBy(kv => kv.Value))
                if (key is "config" or "monitor" || GpuIndexOf(key) is { } g && g < gpus)
                    nodes.Add(new CharDevice(P($"/dev/nvidia-caps/nvidia-cap{minor}"), caps, (uint)minor));
        }
        return nodes;
    }

    static int? GpuIndexOf(string key) =>
        key.StartsWith("gpu", StringComparison.Ordinal) && key.IndexOf('/') is > 3 and var slash && int.TryParse(key[3..slash], out var g) ? g : null;

    // NVIDIA (vendor 0x10de) display-class (0x03xx) devices under the sys root's PCI bus.
    static int CountGpus(HostRoots roots)
    {
        var dir = roots.InSys("bus/pci/devices");
        if (!Directory.Exists(dir)) return 0;
        var count = 0;
        foreach (var dev in Directory.EnumerateFileSystemEntries(dir))
        {
            var vendor = Read(Path.Combine(dev, "vendor"));
            var cls = Read(Path.Combine(dev, "class"));
            if (vendor == "0x10de" && cls is { Length: >= 6 } && cls.StartsWith("0x03", StringComparison.Ordinal)) count++;
        }
        return count;
    }

    static string? Read(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path).Trim().ToLowerInvariant() : null; }
        catch (IOException) { return null; }
    }
}

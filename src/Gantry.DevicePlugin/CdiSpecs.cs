using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;

namespace Gantry.DevicePlugin;

// For the cdi-annotations and cdi-cri strategies the runtime resolves the names the plugin hands out in a CDI spec
// the plugin keeps current on the node: one device per GPU and MIG device under both its UUID and its index, of
// kind <vendor>/gpu (k8s.device-plugin.nvidia.com/gpu, as upstream: a kind of its own, so the spec never collides
// with one `nvidia-ctk cdi generate` wrote for nvidia.com/gpu).
internal static class CdiSpecs
{
    public static string PathFor(PluginSettings s) => Path.Combine(s.CdiSpecDir, $"{s.CdiVendor}-gpu.yaml");

    public static string Write(HostDevices host, PluginSettings s, Log log)
    {
        var hooks = new HookFactory(HookFactory.ResolvePath(s.CdiHookPath), [], []);
        var spec = SpecGenerator.Generate(host.Inventory, hooks, new GenerateOptions
        {
            Vendor = s.CdiVendor, Class = "gpu", NamingStrategies = ["uuid", "index"], NoAllDevice = true,
            // Every GPU whole (MIG strategy none offers a MIG-enabled GPU whole) and every MIG device.
            DeviceIds = [.. host.Gpus.Select(g => g.Uuid), .. host.Gpus.SelectMany(g => g.MigDevices).Select(m => m.Uuid)],
        });
        Directory.CreateDirectory(s.CdiSpecDir);
        var path = PathFor(s);
        SpecWriter.Write(spec, path, SpecFormat.Yaml, formatExplicit: true);
        log.Info($"Wrote the CDI spec for {s.CdiVendor}/gpu to {path}");
        return path;
    }
}

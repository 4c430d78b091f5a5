using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Config;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Requests;

namespace Gantry.Runtime;

// Injects CDI devices into a spec: names of the runtime.nvidia.com vendor are generated just in time from
// discovery (driver root = nvidia-container-cli.root), every other name comes from the CDI spec directories.
// Discovery runs at most once per container and only when something needs it.
internal sealed class CdiInjector
{
    public const string JitVendor = "runtime.nvidia.com";
    public const string JitKind = JitVendor + "/gpu";

    readonly ToolkitConfig _config;
    readonly RuntimeLog _log;
    readonly EditsApplier _applier;
    readonly string _hookPath;
    readonly Lazy<DriverInventory> _inventory;

    public CdiInjector(ToolkitConfig config, RuntimeLog log, EditsApplier applier, string hookPath, Func<HostRoots, Cli.Log, DriverInventory>? discover = null)
    {
        (_config, _log, _applier, _hookPath) = (config, log, applier, hookPath);
        var root = string.IsNullOrEmpty(config.NvidiaContainerCli.Root) ? "/" : config.NvidiaContainerCli.Root;
        discover ??= (roots, l) => DriverDiscovery.Discover(roots, new DiscoveryOptions(), l);
        _inventory = new Lazy<DriverInventory>(() => discover(new HostRoots(root), log.AsCliLog()));
    }

    public void Inject(OciSpec spec, IReadOnlyList<string> names)
    {
        var jit = names.Where(n => n.StartsWith(JitKind + "=", StringComparison.Ordinal)).ToList();
        if (jit.Count > 0 && jit.Count != names.Count)
            throw new Cli.GantryException($"requesting a CDI device with vendor '{JitVendor}' is not supported when requesting other CDI devices ({string.Join(", ", names)})");
        if (jit.Count > 0) InjectJit(spec, jit.Select(n => n[(JitKind.Length + 1)..]).ToList());
        else InjectFromRegistry(spec, names);
    }

    void InjectJit(OciSpec spec, IReadOnlyList<string> ids)
    {
        var inv = _inventory.Value;
        var hooks = new HookFactory(_hookPath, _config.NvidiaContainerRuntime.JitCdiDisableHooks ?? [], []);
        var generated = SpecGenerator.Generate(inv, hooks, new GenerateOptions
        {
            Vendor = JitVendor, Class = "gpu", NamingStrategies = ["uuid"], DeviceIds = ids, NoAllDevice = true,
            AdditionalGids = !(_config.Features.NoAdditionalGidsForDeviceNodes ?? false)
                && !(_config.NvidiaContainerRuntime.JitCdiFeatureFlags?.Contains("no-additional-gids-for-device-nodes") ?? false),
        });
        if (generated.ContainerEdits is { } common) _applier.Apply(spec, common);
        foreach (var d in generated.Devices) _applier.Apply(spec, d.ContainerEdits);
        _log.Info($"Injected {generated.Devices.Count} just-in-time CDI device(s) for [{string.Join(" ", ids)}] from driver {inv.Version}");
    }

    void InjectFromRegistry(OciSpec spec, IReadOnlyList<string> names)
    {
        var dirs = _config.NvidiaContainerRuntime.CdiSpecDirs;
        var registry = SpecRegistry.Load(dirs);
        foreach (var e in registry.Errors) _log.Warning($"CDI registry: {e}");
        var missing = names.Where(n => !registry.Devices.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new Cli.GantryException($"failed to inject CDI devices: unresolvable CDI devices {string.Join(", ", missing)} " +
                $"(no spec in {string.Join(", ", dirs)} defines them; run 'nvidia-ctk cdi generate' or check 'nvidia-ctk cdi list')");
        var specsApplied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var device = registry.Devices[name];
            if (specsApplied.Add(device.Spec.Path) && device.Spec.Spec.ContainerEdits is { } common) _applier.Apply(spec, common);
            _applier.Apply(spec, device.Device.ContainerEdits);
        }
        _log.Info($"Injected CDI devices {string.Join(", ", names)}");
    }

    /// <summary>Checks requirements against the host's driver and the GPUs behind the requested names.</summary>
    public void CheckRequirements(IReadOnlyList<string> requirements, IReadOnlyList<string> names)
    {
        var inv = _inventory.Value;
        var host = new HostFacts(inv.CudaVersion, inv.Version);
        var devices = new List<DeviceFacts>();
        foreach (var name in names)
        {
            var id = name[(name.IndexOf('=') + 1)..];
            if (id == "none") continue;
            if (id == "all") { devices.AddRange(inv.Gpus.Select(Facts)); continue; }
            try { devices.Add(Facts(SpecGenerator.Resolve(inv, id).Gpu)); }
            catch (Cli.GantryException) { } // a CDI name that is not a GPU id: checked without device facts
        }
        try { RequirementCheck.Check(requirements, host, devices); }
        catch (RequirementException e) { throw new Cli.GantryException(e.Message); }
        _log.Info($"Requirements met: {string.Join("; ", requirements)}");
    }

    static DeviceFacts Facts(GpuInfo g) => new(g.ComputeCapability, g.Brand);
}

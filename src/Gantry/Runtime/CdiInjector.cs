using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Config;
using Gantry.Discovery;
using Gantry.Discovery.Tegra;
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
    readonly HostRoots _roots;
    readonly Func<HostRoots, DiscoveryOptions, Cli.Log, DriverInventory> _discover;
    (DriverInventory Inventory, bool Graphics)? _inventory;

    public CdiInjector(ToolkitConfig config, RuntimeLog log, EditsApplier applier, string hookPath,
        Func<HostRoots, DiscoveryOptions, Cli.Log, DriverInventory>? discover = null)
    {
        (_config, _log, _applier, _hookPath) = (config, log, applier, hookPath);
        var root = string.IsNullOrEmpty(config.NvidiaContainerCli.Root) ? "/" : config.NvidiaContainerCli.Root;
        _roots = new HostRoots(root);
        _discover = discover ?? DriverDiscovery.Discover;
    }

    // Discovery runs once per container, and looks for the graphics files only when the request needs them.
    DriverInventory Inventory(bool graphics)
    {
        if (_inventory is { } known && (known.Graphics || !graphics)) return known.Inventory;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var inv = _discover(_roots, new DiscoveryOptions { Graphics = graphics, RootSetting = $"nvidia-container-cli.root in {ToolkitConfigFile.DefaultPath()}" }, _log.AsCliLog());
        _log.Debug($"Discovered driver {inv.Version} under {_roots.DriverRoot} in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        _inventory = (inv, graphics);
        return inv;
    }

    /// <param name="capabilities">NVIDIA_DRIVER_CAPABILITIES resolved; asked for only when devices are generated just in time.</param>
    public void Inject(OciSpec spec, IReadOnlyList<string> names, Func<DriverCapability> capabilities)
    {
        var jit = names.Where(n => n.StartsWith(JitVendor + "/", StringComparison.Ordinal)).ToList();
        if (jit.Count > 0 && jit.Count != names.Count)
            throw new Cli.GantryException($"requesting a CDI device with vendor '{JitVendor}' is not supported when requesting other CDI devices ({string.Join(", ", names)})");
        if (jit.Count == 0) { InjectFromRegistry(spec, names); return; }
        var gpus = IdsOfKind(jit, JitKind);
        if (gpus.Count > 0) InjectJit(spec, gpus, capabilities());
        InjectGated(spec, jit.Where(n => !n.StartsWith(JitKind + "=", StringComparison.Ordinal)).ToList());
    }

    /// <summary>The just-in-time name of a gated family ("gds", …) or of an IMEX channel.</summary>
    public static string GatedName(string mode) => $"{JitVendor}/{mode}=all";
    public static string ImexName(string channel) => $"{JitVendor}/{ImexClass}={channel}";
    const string ImexClass = "imex-channel";

    static List<string> IdsOfKind(IEnumerable<string> names, string kind) =>
        names.Where(n => n.StartsWith(kind + "=", StringComparison.Ordinal)).Select(n => n[(kind.Length + 1)..]).ToList();

    // Gated families and IMEX channels need only the device root, never the driver's discovery.
    void InjectGated(OciSpec spec, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return;
        var nodes = DeviceNodeLocator.ForHost(_roots);
        var imex = IdsOfKind(names, $"{JitVendor}/{ImexClass}");
        if (imex.Count > 0) _applier.Apply(spec, GatedDevices.Imex(imex, nodes));
        foreach (var name in names.Where(n => !n.StartsWith($"{JitVendor}/{ImexClass}=", StringComparison.Ordinal)))
        {
            var kind = QualifiedName.TryParse(name, out var q, out _) ? q.Class : name;
            _applier.Apply(spec, GatedDevices.For(kind, nodes));
        }
        _log.Info($"Injected just-in-time devices {string.Join(", ", names)}");
    }

    // The capabilities pick the driver files (CapabilityFilter), whether GPUs bring their DRM nodes, and drop the
    // hooks that only serve files left out: CUDA compat without compute, the application profile without graphics.
    void InjectJit(OciSpec spec, IReadOnlyList<string> ids, DriverCapability caps)
    {
        var inv = CapabilityFilter.Select(Inventory(CapabilityFilter.WantsGraphics(caps)), caps);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var disabled = new List<string>(_config.NvidiaContainerRuntime.JitCdiDisableHooks ?? []);
        if (!CapabilityFilter.WantsCompute(caps)) disabled.Add("enable-cuda-compat");
        if (!CapabilityFilter.WantsGraphics(caps)) disabled.Add("update-application-profile");
        var generated = SpecGenerator.Generate(inv, new HookFactory(_hookPath, disabled, []), new GenerateOptions
        {
            Vendor = JitVendor, Class = "gpu", NamingStrategies = ["uuid"], DeviceIds = ids, NoAllDevice = true,
            AdditionalGids = !(_config.Features.NoAdditionalGidsForDeviceNodes ?? false)
                && !(_config.NvidiaContainerRuntime.JitCdiFeatureFlags?.Contains("no-additional-gids-for-device-nodes") ?? false),
            DrmNodes = CapabilityFilter.WantsGraphics(caps),
        });
        var generatedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        if (generated.ContainerEdits is { } common) _applier.Apply(spec, common);
        foreach (var d in generated.Devices) _applier.Apply(spec, d.ContainerEdits);
        _log.Info($"Injected {generated.Devices.Count} just-in-time CDI device(s) for [{string.Join(" ", ids)}] " +
                  $"with capabilities {Requests.DriverCapabilityRequest.Join(caps)} from driver {inv.Version}");
        _log.Debug($"Generated the edits in {System.Diagnostics.Stopwatch.GetElapsedTime(started, generatedAt).TotalMilliseconds:F1} ms, " +
                   $"applied them in {System.Diagnostics.Stopwatch.GetElapsedTime(generatedAt).TotalMilliseconds:F1} ms");
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

    /// <summary>Tegra files under the driver root and no NVML there: auto mode means csv.</summary>
    public bool IsTegraWithoutNvml() => TegraPlatform.IsTegraWithoutNvml(_roots, _log.AsCliLog());

    NvmlSnapshot? TegraNvml() => TegraPlatform.Nvml(_roots, _log.AsCliLog());

    /// <summary>csv mode: the spec the CSV mount specs in modes.csv.mount-spec-path describe, for ids 0/all/none.</summary>
    public void InjectCsv(OciSpec spec, IReadOnlyList<string> ids, bool allCsvFiles)
    {
        var dir = _config.NvidiaContainerRuntime.CsvMountSpecPath;
        var files = CsvMountSpecs.Files(dir, allCsvFiles);
        if (files.Count == 0)
            throw new Cli.GantryException($"csv mode: no CSV mount specs ({string.Join(", ", CsvMountSpecs.DefaultFiles)}) in {dir}; " +
                                          "set nvidia-container-runtime.modes.csv.mount-spec-path or use another mode");
        var entries = CsvMountSpecs.Load(files, _log.AsCliLog());
        var nvml = TegraNvml();
        var generated = CsvSpecGenerator.Generate(_roots, entries, new HookFactory(_hookPath, _config.NvidiaContainerRuntime.JitCdiDisableHooks ?? [], []),
            new CsvGenerateOptions
            {
                Vendor = JitVendor, Class = "gpu", DeviceIds = ids, NoAllDevice = true, HostCudaVersion = nvml?.CudaVersionText,
                CompatContainerRoot = TegraPlatform.CompatContainerRoot(_config.NvidiaContainerRuntime.CsvCompatContainerRoot, nvml),
            });
        if (generated.ContainerEdits is { } common) _applier.Apply(spec, common);
        foreach (var d in generated.Devices) _applier.Apply(spec, d.ContainerEdits);
        _log.Info($"Injected the CSV mount specs of {string.Join(", ", files)} for [{string.Join(" ", ids)}]");
    }

    /// <summary>csv mode's requirements: cuda from NVML when there is one, arch of GPU 0; unknown facts pass.</summary>
    public void CheckCsvRequirements(IReadOnlyList<string> requirements)
    {
        var nvml = TegraNvml();
        var gpu0 = nvml?.Gpus.FirstOrDefault();
        try { RequirementCheck.Check(requirements, new HostFacts(nvml?.CudaVersionText, null), gpu0 is null ? [] : [Facts(gpu0)]); }
        catch (RequirementException e) { throw new Cli.GantryException(e.Described); }
    }

    /// <summary>Checks requirements against the host's driver and the GPUs behind the requested names.</summary>
    public void CheckRequirements(IReadOnlyList<string> requirements, IReadOnlyList<string> names)
    {
        var inv = Inventory(graphics: false);
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
        catch (RequirementException e) { throw new Cli.GantryException(e.Described); }
        _log.Info($"Requirements met: {string.Join("; ", requirements)}");
    }

    static DeviceFacts Facts(GpuInfo g) => new(g.ComputeCapability, g.Brand);
}

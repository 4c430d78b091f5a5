using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Config;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Discovery.Inventory;
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
    public const string JitVendor = DeviceKinds.JitVendor;
    public const string JitKind = JitVendor + "/gpu";

    readonly ToolkitConfig _config;
    readonly RuntimeLog _log;
    readonly EditsApplier _applier;
    readonly string _hookPath;
    readonly HostRoots _roots;
    readonly Func<HostRoots, DiscoveryOptions, Log, DriverInventory> _discover;
    (DriverInventory Inventory, bool Graphics, bool Compat32)? _inventory;
    SpecRegistry? _registry;

    public CdiInjector(ToolkitConfig config, RuntimeLog log, EditsApplier applier, string hookPath,
        Func<HostRoots, DiscoveryOptions, Log, DriverInventory>? discover = null)
    {
        (_config, _log, _applier, _hookPath) = (config, log, applier, hookPath);
        var root = string.IsNullOrEmpty(config.NvidiaContainerCli.Root) ? "/" : config.NvidiaContainerCli.Root;
        _roots = new HostRoots(root);
        _discover = discover ?? DriverDiscovery.Discover;
    }

    NvcdiFeatures? _jitFeatures;

    /// <summary>modes.jit-cdi.nvcdi-feature-flags, read once (an unknown flag is a warning, an unimplemented one an error).</summary>
    NvcdiFeatures JitFeatures => _jitFeatures ??= ParseJitFeatures();

    NvcdiFeatures ParseJitFeatures()
    {
        const string key = "nvidia-container-runtime.modes.jit-cdi.nvcdi-feature-flags";
        var features = NvcdiFeatures.Parse(_config.NvidiaContainerRuntime.JitCdiFeatureFlags ?? [], key, _log.AsCliLog());
        // As in the original: the annotation it adds to just-in-time devices never reaches the container.
        if (features.SplitByCoherence)
            _log.Info($"Feature flag {NvcdiFeatures.CoherentAnnotations} in {key} changes nothing in a container: it only splits the specs cdi generate writes");
        return features;
    }

    // Discovery runs once per container, and looks for the graphics files and the 32-bit libraries only when the
    // request needs them.
    DriverInventory Inventory(bool graphics, bool compat32 = false)
    {
        if (_inventory is { } known && (known.Graphics || !graphics) && (known.Compat32 || !compat32)) return known.Inventory;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var configPath = ToolkitConfigFile.DefaultPath();
        var inv = _discover(_roots, new DiscoveryOptions
        {
            Graphics = graphics, Compat32 = compat32, IpcSockets = !JitFeatures.WithoutIpcSockets, ExplicitLibraries = JitFeatures.WithExplicitDriverLibraries,
            RootSetting = $"nvidia-container-cli.root in {configPath}", QueryNvml = NvmlSnapshotCache.QueryFor(configPath, _log.AsCliLog()),
        }, _log.AsCliLog());
        _log.Debug($"Discovered driver {inv.Version} under {_roots.DriverRoot} in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        _inventory = (inv, graphics, compat32);
        return inv;
    }

    DriverInventory? _legacyInventory;

    // Legacy mode reads what the original's modifiers read: the driver's files (its version from their names) and
    // /proc/driver/nvidia for the GPUs; never NVML, which nvidia-container-cli loads later anyway.
    DriverInventory LegacyInventory() => _legacyInventory ??= _discover(_roots, new DiscoveryOptions
    {
        Graphics = true, UseNvml = false, IpcSockets = false,
        RootSetting = $"nvidia-container-cli.root in {ToolkitConfigFile.DefaultPath()}",
    }, _log.AsCliLog());

    /// <summary>Legacy mode's graphics modifier: DRM nodes of the requested GPUs and the graphics files (Cdi/Generate/LegacyGraphicsEdits).</summary>
    public void InjectLegacyGraphics(OciSpec spec, IReadOnlyList<string> ids)
    {
        var inv = LegacyInventory();
        var edits = LegacyGraphicsEdits.Build(inv, ids, new HookFactory(_hookPath, [], []),
            additionalGids: !(_config.Features.NoAdditionalGidsForDeviceNodes ?? false));
        _applier.Apply(spec, edits);
        _log.Info($"Added the graphics files and {edits.DeviceNodes!.Count} DRM device node(s) for [{string.Join(" ", ids)}] (NVIDIA_DRIVER_CAPABILITIES asks for graphics)");
    }

    /// <summary>Legacy mode's enable-cuda-compat hook (cuda-compat-mode = "hook"), with the host driver's version.</summary>
    public void InjectCudaCompatHook(OciSpec spec)
    {
        var version = LegacyInventory().Version;
        var hook = new HookFactory(_hookPath, [], []).Create("enable-cuda-compat", version.Contains('*') ? [] : [$"--host-driver-version={version}"])!;
        _applier.Apply(spec, new Edits.ContainerEdits { Hooks = [hook] });
        _log.Info($"Added the enable-cuda-compat hook for driver {version}");
    }

    /// <summary>Every id that Swarm gave the task (swarm-resource variables) must be a device of this node.</summary>
    public void CheckSwarmIds(IReadOnlyList<KeyValuePair<string, string>> sources)
    {
        if (sources.Count > 0) SwarmDeviceCheck.Check(Inventory(graphics: false), sources);
    }

    /// <summary>cdi mode: every id Swarm gave the task must name a device of <paramref name="kind"/> in the spec directories.</summary>
    public void CheckSwarmIdsInSpecs(IReadOnlyList<KeyValuePair<string, string>> sources, string kind)
    {
        if (sources.Count == 0) return;
        var registry = Registry();
        var prefix = kind + "=";
        var offered = registry.DeviceNames.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n != prefix + "all")
            .Select(n => n[prefix.Length..]).ToList();
        SwarmResource.CheckKnown(sources, id => registry.Devices.ContainsKey(Cdi.QualifiedName.Of(kind, id)), offered,
            $"no CDI spec in {string.Join(", ", _config.NvidiaContainerRuntime.CdiSpecDirs)} defines {kind}=<id>");
    }

    SpecRegistry Registry()
    {
        if (_registry is not null) return _registry;
        _registry = SpecRegistry.Load(_config.NvidiaContainerRuntime.CdiSpecDirs);
        foreach (var e in _registry.Errors) _log.Warning($"CDI registry: {e}");
        return _registry;
    }

    /// <summary>
    /// Injects the devices a container named the CDI way (NVIDIA_VISIBLE_DEVICES qualified by the mode's kind, or
    /// annotations) and the typed requests of the other kinds. Names of the just-in-time vendor are made from
    /// discovery (a user may write them: runtime.nvidia.com/gpu=0, …/gds=all); every other name comes from the spec
    /// directories, and cannot be mixed with just-in-time devices.
    /// </summary>
    /// <param name="capabilities">NVIDIA_DRIVER_CAPABILITIES resolved; asked for only when GPUs are generated just in time.</param>
    public void Inject(OciSpec spec, IReadOnlyList<string> names, IReadOnlyList<DeviceRequest> others, Func<DriverCapability> capabilities)
    {
        var jit = names.Where(n => n.StartsWith(JitVendor + "/", StringComparison.Ordinal)).ToList();
        if ((jit.Count > 0 || others.Count > 0) && jit.Count != names.Count)
            throw new GantryException($"requesting a CDI device with vendor '{JitVendor}' is not supported when requesting other CDI devices " +
                                      $"({string.Join(", ", names.Concat(others.Select(o => o.JitName)))})");
        if (jit.Count == 0 && others.Count == 0) { InjectFromRegistry(spec, names); return; }
        var gpus = new List<string>();
        var requests = new List<DeviceRequest>();
        foreach (var name in jit)
        {
            var (cls, id) = QualifiedName.TryParse(name, out var q, out _) ? (q.Class, q.Name) : (name, "");
            if (cls == "gpu") gpus.Add(id);
            else requests.Add(new DeviceRequest(DeviceKinds.Find(cls) ?? throw new GantryException($"unknown gated device mode '{cls}'"), [id]));
        }
        InjectJit(spec, gpus, [.. requests, .. others], capabilities);
    }

    /// <summary>GPUs by id (index, UUID, MIG, "all", "none") made just in time, then the other kinds' requests.</summary>
    public void InjectJit(OciSpec spec, IReadOnlyList<string> gpuIds, IReadOnlyList<DeviceRequest> others, Func<DriverCapability> capabilities)
    {
        if (gpuIds.Count > 0) InjectJitGpus(spec, gpuIds, capabilities());
        InjectOthers(spec, others);
    }

    /// <summary>The other kinds need only the device root, never the driver's discovery. Requests of one kind are
    /// applied together, in DeviceKinds order. Legacy mode's feature-gated modifier uses it for the gated families.</summary>
    public void InjectOthers(OciSpec spec, IReadOnlyList<DeviceRequest> requests)
    {
        if (requests.Count == 0) return;
        var nodes = DeviceNodeLocator.ForHost(_roots);
        foreach (var kind in DeviceKinds.All)
        {
            var ids = requests.Where(r => r.Kind == kind).SelectMany(r => r.Ids).ToList();
            if (ids.Count > 0) _applier.Apply(spec, kind.Edits(ids, nodes));
        }
        _log.Info($"Injected just-in-time devices {string.Join(", ", requests.Select(r => r.JitName))}");
    }

    // The capabilities pick the driver files (CapabilityFilter), whether GPUs bring their DRM nodes, and drop the
    // hooks that only serve files left out: CUDA compat without compute, the application profile without graphics.
    void InjectJitGpus(OciSpec spec, IReadOnlyList<string> ids, DriverCapability caps)
    {
        // A WSL2 guest has one device, /dev/dxg, behind which are all its GPUs; its driver is the driver store.
        if (WslDriver.IsWsl(_roots)) { InjectWsl(spec, ids); return; }
        var inv = CapabilityFilter.Select(Inventory(CapabilityFilter.WantsGraphics(caps), (caps & DriverCapability.Compat32) != 0), caps);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var disabled = new List<string>(_config.NvidiaContainerRuntime.JitCdiDisableHooks ?? []);
        if (!CapabilityFilter.WantsCompute(caps)) disabled.Add("enable-cuda-compat");
        if (!CapabilityFilter.WantsGraphics(caps)) disabled.Add("update-application-profile");
        var generated = SpecGenerator.Generate(inv, new HookFactory(_hookPath, disabled, []), new GenerateOptions
        {
            Vendor = JitVendor, Class = "gpu", NamingStrategies = ["uuid"], DeviceIds = ids, NoAllDevice = true,
            AdditionalGids = !(_config.Features.NoAdditionalGidsForDeviceNodes ?? false) && !JitFeatures.WithoutAdditionalGids,
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

    void InjectWsl(OciSpec spec, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
            if (id is not ("all" or "0"))
                throw new GantryException($"unknown device id '{id}': a WSL2 guest offers its GPUs together, as all (or 0), through /dev/dxg");
        var wsl = WslDriver.Find(_roots, _log.AsCliLog())!;
        var disabled = _config.NvidiaContainerRuntime.JitCdiDisableHooks ?? [];
        var generated = WslSpecGenerator.Generate(wsl, new HookFactory(_hookPath, disabled, []), JitVendor, "gpu", ["all"]);
        if (generated.ContainerEdits is { } common) _applier.Apply(spec, common);
        foreach (var d in generated.Devices) _applier.Apply(spec, d.ContainerEdits);
        _log.Info($"Injected the WSL2 GPU (/dev/dxg) and the driver store {wsl.Store} for [{string.Join(" ", ids)}]");
    }

    void InjectFromRegistry(OciSpec spec, IReadOnlyList<string> names)
    {
        var dirs = _config.NvidiaContainerRuntime.CdiSpecDirs;
        var registry = Registry();
        var missing = names.Where(n => !registry.Devices.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new GantryException($"failed to inject CDI devices: unresolvable CDI devices {string.Join(", ", missing)} " +
                $"(no spec in {string.Join(", ", dirs)} defines them; run 'nvidia-ctk cdi generate' or check 'nvidia-ctk cdi list')");
        CheckSpecsMatchHost(names.Select(n => registry.Devices[n]).ToList());
        var specsApplied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var device = registry.Devices[name];
            if (specsApplied.Add(device.Spec.Path) && device.Spec.Spec.ContainerEdits is { } common) _applier.Apply(spec, common);
            _applier.Apply(spec, device.Device.ContainerEdits);
        }
        _log.Info($"Injected CDI devices {string.Join(", ", names)}");
    }

    // A spec left behind by a driver upgrade or a MIG change would fail in runc with an error that names neither
    // the spec nor the cause: said here, with the fix, before anything is applied.
    void CheckSpecsMatchHost(IReadOnlyList<RegisteredDevice> devices)
    {
        var running = ProcDriver.DriverVersion(_roots);
        foreach (var group in devices.GroupBy(d => d.Spec.Path))
        {
            var spec = group.First().Spec.Spec;
            var edits = group.Select(d => (Edits.ContainerEdits?)d.Device.ContainerEdits).Prepend(spec.ContainerEdits).OfType<Edits.ContainerEdits>();
            if (SpecHostCheck.Problem(group.Key, edits, running) is { } problem) throw new GantryException(problem);
        }
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
            throw new GantryException($"csv mode: no CSV mount specs ({string.Join(", ", CsvMountSpecs.DefaultFiles)}) in {dir}; " +
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
        catch (RequirementException e) { throw new GantryException(e.Described); }
    }

    /// <summary>Checks requirements against the host's driver and the GPUs behind the requested ids or CDI names.</summary>
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
            catch (GantryException) { } // a CDI name that is not a GPU id: checked without device facts
        }
        try { RequirementCheck.Check(requirements, host, devices); }
        catch (RequirementException e) { throw new GantryException(e.Described); }
        _log.Info($"Requirements met: {string.Join("; ", requirements)}");
    }

    static DeviceFacts Facts(GpuInfo g) => new(g.ComputeCapability, g.Brand);
}

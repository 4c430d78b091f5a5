using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Config;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Oci;
using Gantry.Requests;

namespace Gantry.Runtime;

// The modifier chain of the original, per mode (toolkit.md §1.4):
//   cdi, jit-cdi: remove Docker's --gpus hooks, then inject the requested CDI devices (registry or just-in-time);
//   legacy:       the gated families, the enable-cuda-compat hook (cuda-compat-mode = "hook") and the graphics
//                 files and DRM nodes (graphics or display asked for), then the nvidia-container-runtime-hook
//                 prestart hook unless one is there.
// Requirements (NVIDIA_REQUIRE_*) are checked here before anything is changed in cdi and jit-cdi modes; in
// legacy mode the hook checks them, as nvidia-container-cli does for the original.
internal sealed class SpecModifier(ToolkitConfig config, RuntimeLog log, CdiInjector injector, string legacyHookPath)
{
    static readonly string[] NvidiaHookNames = ["nvidia-container-runtime-hook", "nvidia-container-toolkit"];

    public RuntimeMode Modify(OciSpec spec, RuntimeMode? configured)
    {
        var facts = new ContainerFacts(spec.Env, spec.Mounts, spec.Annotations, spec.IsPrivileged);
        var rt = config.NvidiaContainerRuntime;
        var options = new RequestOptions
        {
            AcceptVolumeMounts = config.AcceptsVolumeMounts,
            AcceptEnvvarWhenUnprivileged = config.AcceptsEnvvarWhenUnprivileged,
            SwarmResourceVariables = config.SwarmResourceVariables,
            IgnoreImexChannelRequests = config.Features.IgnoreImexChannelRequests ?? false,
            AnnotationPrefixes = rt.CdiAnnotationPrefixes,
        };
        var devices = ContainerDevices.Resolve(facts, options);
        var mode = configured ?? ModeResolver.Auto(devices.Gpus.WithAnnotations, injector.IsTegraWithoutNvml);
        // Annotations are honoured only in cdi mode.
        var request = devices.Gpus.For(cdiMode: mode == RuntimeMode.Cdi);
        foreach (var w in request.Warnings) log.Warning(w);
        log.Info($"Using {ModeResolver.Name(mode)} mode; requested devices: {request.Devices}");

        if (mode == RuntimeMode.Legacy)
        {
            if (request.Devices.IsRequested) ModifyLegacy(spec, facts, request, devices.Others);
            AddLegacyHook(spec);
            return mode;
        }
        RemoveNvidiaHooks(spec);
        if (!request.Devices.IsRequested) return mode;
        if (mode == RuntimeMode.Csv) { ModifyCsv(spec, facts, request, devices.Others); return mode; }
        var ids = request.Devices.AsIds();
        // Ids from Swarm are UUIDs of this node's GPUs (jit-cdi); in cdi mode the spec directories say what exists.
        if (mode == RuntimeMode.JitCdi) injector.CheckSwarmIds(request.SwarmSources);
        else if (mode == RuntimeMode.Cdi) injector.CheckSwarmIdsInSpecs(request.SwarmSources, rt.CdiDefaultKind);
        var requirements = RequirementCheck.Collect(facts, config.DisableRequire);
        // jit-cdi with plain ids (the usual case): typed all the way, GPU ids and the other kinds' requests.
        if (mode == RuntimeMode.JitCdi && !ids.Any(Cdi.QualifiedName.IsQualified))
        {
            if (requirements.Count > 0) injector.CheckRequirements(requirements, ids);
            injector.InjectJit(spec, ids, devices.Others, () => Capabilities(facts));
            return mode;
        }
        // CDI names: the ids qualified by the mode's kind, or names the user wrote.
        var kind = mode == RuntimeMode.Cdi ? rt.CdiDefaultKind : CdiInjector.JitKind;
        var names = ids.Select(id => Cdi.QualifiedName.IsQualified(id) ? id : Cdi.QualifiedName.Of(kind, id))
            .Distinct(StringComparer.Ordinal).ToList();
        if (requirements.Count > 0) injector.CheckRequirements(requirements, names);
        var others = mode == RuntimeMode.JitCdi ? devices.Others : [];
        if (mode == RuntimeMode.Cdi && devices.Others.Count > 0)
            log.Info("Gated devices (NVIDIA_GDS, …) and IMEX channels are injected in jit-cdi mode only; ignoring them in cdi mode");
        injector.Inject(spec, names, others, () => Capabilities(facts));
        return mode;
    }

    // The original's feature-gated and graphics modifiers, which run before the hook is added and only for a GPU
    // container: the gated families (NVIDIA_GDS, … = "enabled") as jit-cdi injects them (IMEX channels are the
    // CLI's, --imex-channel), the enable-cuda-compat hook, then the graphics files and DRM nodes when
    // NVIDIA_DRIVER_CAPABILITIES asks for graphics or display.
    void ModifyLegacy(OciSpec spec, ContainerFacts facts, ContainerRequest request, IReadOnlyList<DeviceRequest> others)
    {
        var gated = others.Where(r => r.Kind is GatedFamily).ToList();
        if (gated.Count > 0) injector.InjectOthers(spec, gated);
        AddLegacyCudaCompatHook(spec);
        if (Cdi.Generate.LegacyGraphicsEdits.Wanted(facts.Get("NVIDIA_DRIVER_CAPABILITIES")))
            injector.InjectLegacyGraphics(spec, request.Devices.AsIds());
        else log.Debug("No graphics modifier: NVIDIA_DRIVER_CAPABILITIES names neither graphics nor display");
    }

    // Tegra: the CSV mount specs give the files and device 0; requirements are checked against what NVML (if any)
    // says; the kinds that csv mode takes (the gated families) come as in jit-cdi. NVIDIA_REQUIRE_JETPACK=csv-mounts=all
    // reads every *.csv file.
    void ModifyCsv(OciSpec spec, ContainerFacts facts, ContainerRequest request, IReadOnlyList<DeviceRequest> others)
    {
        var requirements = RequirementCheck.Collect(facts, config.DisableRequire);
        if (requirements.Count > 0) injector.CheckCsvRequirements(requirements);
        var allFiles = (facts.Get("NVIDIA_REQUIRE_JETPACK") ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Contains("csv-mounts=all");
        injector.InjectCsv(spec, request.Devices.AsIds(), allFiles);
        var inCsv = others.Where(r => r.Kind.InCsvMode).ToList();
        if (inCsv.Count > 0) injector.Inject(spec, [], inCsv, () => Capabilities(facts));
    }

    DriverCapability Capabilities(ContainerFacts facts)
    {
        try
        {
            return DriverCapabilityRequest.Resolve(facts, DriverCapabilityRequest.ParseSupported(config.SupportedDriverCapabilities));
        }
        catch (UnsupportedCapabilityException e) { throw new GantryException(e.Message, e); }
    }

    // modes.legacy.cuda-compat-mode = "hook": the CLI is told to leave the image's compat libraries alone and the
    // runtime adds the enable-cuda-compat createContainer hook instead, unless features.disable-cuda-compat-lib-hook.
    void AddLegacyCudaCompatHook(OciSpec spec)
    {
        if (config.NvidiaContainerRuntime.LegacyCudaCompatMode != "hook") return;
        if (config.Features.DisableCudaCompatLibHook == true)
        {
            log.Info("features.disable-cuda-compat-lib-hook is set: no enable-cuda-compat hook (modes.legacy.cuda-compat-mode = \"hook\")");
            return;
        }
        injector.InjectCudaCompatHook(spec);
    }

    void AddLegacyHook(OciSpec spec)
    {
        var prestart = spec.Array(spec.Object("hooks"), "prestart");
        if (prestart.OfType<JsonObject>().Any(IsNvidiaHook)) { log.Info("The NVIDIA prestart hook is already in the spec"); return; }
        var hook = new OciHook(legacyHookPath, [Path.GetFileName(legacyHookPath), "prestart"], null, null);
        prestart.Add((JsonNode)hook.ToNode());
    }

    static void RemoveNvidiaHooks(OciSpec spec)
    {
        if (spec.Root["hooks"] is not JsonObject hooks || hooks["prestart"] is not JsonArray prestart) return;
        for (var i = prestart.Count - 1; i >= 0; i--)
            if (prestart[i] is JsonObject h && IsNvidiaHook(h)) prestart.RemoveAt(i);
    }

    static bool IsNvidiaHook(JsonObject hook) =>
        OciSpec.Str(hook, "path") is { } p && NvidiaHookNames.Contains(Path.GetFileName(p));
}

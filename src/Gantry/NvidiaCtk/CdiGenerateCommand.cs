using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.NvidiaCtk;

// `nvidia-ctk cdi generate`: the original's flags, environment variables and defaults.
internal static class CdiGenerateCommand
{
    static readonly string[] KnownModes = ["auto", "csv", "gdrcopy", "gds", "imex", "management", "mofed", "nvml", "nvswitch", "wsl"];

    public static FlagSet Flags() => new FlagSet()
        .List("config-search-path", "paths to search for config files", null, null, ["NVIDIA_CTK_CDI_GENERATE_CONFIG_SEARCH_PATHS"])
        .String("output", "the file to write the spec to (default: stdout)", null, null, ["NVIDIA_CTK_CDI_OUTPUT_FILE_PATH"])
        .String("format", "the output format: json or yaml", "yaml", null, ["NVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT"])
        .String("mode", "the discovery mode", "auto", ["discovery-mode"], ["NVIDIA_CTK_CDI_GENERATE_MODE"])
        .String("dev-root", "the root of the device nodes (default: the driver root)", null, null, ["NVIDIA_CTK_DEV_ROOT"])
        .List("device-name-strategy", "index, uuid or type-index; repeatable", "index,uuid", null, ["NVIDIA_CTK_CDI_GENERATE_DEVICE_NAME_STRATEGIES"])
        .String("driver-root", "the root of the driver installation", null, null, ["NVIDIA_CTK_DRIVER_ROOT"])
        .List("library-search-path", "directories to search for driver libraries", null, null, ["NVIDIA_CTK_CDI_GENERATE_LIBRARY_SEARCH_PATHS"])
        .String("nvidia-cdi-hook-path", "the nvidia-cdi-hook used in the spec's hooks", null, ["nvidia-ctk-path"], ["NVIDIA_CTK_CDI_HOOK_PATH"])
        .String("ldconfig-path", "the ldconfig the update-ldcache hook runs", null, null, ["NVIDIA_CTK_CDI_GENERATE_LDCONFIG_PATH"])
        .String("vendor", "the CDI vendor", "nvidia.com", ["cdi-vendor"], ["NVIDIA_CTK_CDI_GENERATE_VENDOR"])
        .String("class", "the CDI class", "gpu", ["cdi-class"], ["NVIDIA_CTK_CDI_GENERATE_CLASS"])
        .List("csv.file", "CSV files (csv mode only)", null, null, ["NVIDIA_CTK_CDI_GENERATE_CSV_FILES"])
        .List("csv.ignore-pattern", "CSV symlink patterns to ignore (csv mode only)", null, null, ["NVIDIA_CTK_CDI_GENERATE_CSV_IGNORE_PATTERNS"])
        .String("csv.compat-container-root", "CUDA compat root in the container (csv mode only)", null, null, ["NVIDIA_CTK_CDI_GENERATE_CSV_CONTAINER_COMPAT_ROOT"])
        .List("disable-hook", "hooks to leave out of the spec (or all)", null, ["disable-hooks"], ["NVIDIA_CTK_CDI_GENERATE_DISABLED_HOOKS"])
        .List("enable-hook", "hooks to put in the spec even if disabled by default", null, ["enable-hooks"], ["NVIDIA_CTK_CDI_GENERATE_ENABLED_HOOKS"])
        .List("feature-flag", "feature flags", null, ["feature-flags"], ["NVIDIA_CTK_CDI_GENERATE_FEATURE_FLAGS"])
        .Bool("no-all-device", "do not generate the 'all' device", null, ["NVIDIA_CTK_CDI_GENERATE_NO_ALL_DEVICE"])
        .List("device-id", "the devices to generate", "all", ["device-ids", "device", "devices"], ["NVIDIA_CTK_CDI_GENERATE_DEVICE_IDS"])
        .Bool("help", "show help", ["h"]);

    // What only matters where the spec carries the driver: the modes of device nodes alone ignore these, and say so.
    static readonly string[] DriverFileFlags =
    [
        "config-search-path", "library-search-path", "nvidia-cdi-hook-path", "ldconfig-path", "disable-hook", "enable-hook", "feature-flag",
        "device-name-strategy", "csv.file", "csv.ignore-pattern", "csv.compat-container-root",
    ];

    public static int Run(string[] args, Log log, string? toolkitConfig = null)
    {
        var f = Flags().Parse(args);
        if (f.GetBool("help")) { Console.WriteLine("USAGE: nvidia-ctk cdi generate [options]\n\nOPTIONS:\n" + f.Usage()); return 0; }
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");
        var mode = f.GetOr("mode", "auto").ToLowerInvariant();
        if (!KnownModes.Contains(mode)) throw new UsageException($"invalid discovery mode '{mode}': use one of {string.Join(", ", KnownModes)}");
        var format = f.GetOr("format", "yaml").ToLowerInvariant() switch
        {
            "json" => SpecFormat.Json, "yaml" => SpecFormat.Yaml,
            var other => throw new UsageException($"invalid output format '{other}': use json or yaml"),
        };

        WarnUnknownHooks(f, log);
        var features = NvcdiFeatures.Parse(f.GetList("feature-flag"), "--feature-flag", log);
        var ids = f.GetList("device-id");
        var noAll = f.GetBool("no-all-device");
        if (ids.Contains("none") && !noAll) { log.Warning("Disabling generation of 'all' device"); noAll = true; }
        // As the original: --driver-root, else $NVIDIA_CTK_DRIVER_ROOT, else nvidia-container-cli.root of the global --config file.
        var configuredRoot = ConfiguredDriverRoot(toolkitConfig);
        var driverRoot = f.Get("driver-root") is { Length: > 0 } given ? given : configuredRoot ?? "/";
        var roots = new HostRoots(driverRoot, f.Get("dev-root"));
        // The original's defaults per mode: management.nvidia.com for management; class imex-channel or the family's name.
        var vendor = f.IsSet("vendor") ? f.GetOr("vendor", "nvidia.com") : mode == "management" ? "management.nvidia.com" : "nvidia.com";
        var cls = f.IsSet("class") ? f.GetOr("class", "gpu") : mode == "imex" ? "imex-channel" : Devices.DeviceKinds.GatedFamilies.Any(g => g.Name == mode) ? mode : "gpu";
        if (mode == "imex" || Devices.DeviceKinds.GatedFamilies.Any(g => g.Name == mode))
        {
            foreach (var name in DriverFileFlags.Where(f.IsSet))
                log.Warning($"Ignoring --{name}: {mode} mode writes device nodes only, no driver files or hooks");
            var nodes = DeviceNodeLocator.ForHost(roots);
            var modeSpec = mode == "imex" ? Devices.ModeSpecGenerator.Imex(nodes, vendor, cls, ids, noAll)
                : Devices.ModeSpecGenerator.Gated(Devices.DeviceKinds.GatedFamilies.First(g => g.Name == mode), nodes, vendor, cls, ids);
            return Save(f, modeSpec, format, log);
        }
        // management mode never asks the hook to stop device node creation: its containers manage the devices.
        var disabledHooks = f.GetList("disable-hook");
        if (mode == "management") disabledHooks.Add("disable-device-node-modification");
        var hooks = new HookFactory(HookFactory.ResolvePath(f.Get("nvidia-cdi-hook-path")), disabledHooks, f.GetList("enable-hook"))
        {
            LdconfigPath = f.Get("ldconfig-path"),
        };
        // A WSL2 guest (libdxcore and /dev/dxg) comes first in auto mode, as in the original.
        if (mode == "wsl" || (mode == "auto" && WslDriver.IsWsl(roots)))
        {
            var wsl = WslDriver.Find(roots, log) ?? throw new GantryException(
                $"--mode=wsl, but {roots.InDevRoot("/dev/dxg")} or {roots.InDriverRoot(WslDriver.LibDir + "/libdxcore.so")} is missing: this is not a WSL2 guest");
            foreach (var name in new[] { "config-search-path", "library-search-path", "feature-flag", "device-name-strategy", "csv.file", "csv.ignore-pattern", "csv.compat-container-root" }.Where(f.IsSet))
                log.Warning($"Ignoring --{name}: a WSL2 guest's spec is its driver store and /dev/dxg");
            return Save(f, WslSpecGenerator.Generate(wsl, hooks, vendor, cls, ids), format, log);
        }
        if (mode == "csv" || (mode == "auto" && Discovery.Tegra.TegraPlatform.IsTegraWithoutNvml(roots, log)))
            return CsvGenerate.Run(f, roots, format, noAll, log);
        foreach (var csv in new[] { "csv.file", "csv.ignore-pattern", "csv.compat-container-root" }.Where(f.IsSet))
            log.Warning($"Ignoring --{csv}: it applies to csv mode only, and this is {(mode == "auto" ? "nvml (auto)" : mode)} mode");
        var inv = DriverDiscovery.Discover(roots, new DiscoveryOptions
        {
            LibrarySearchPaths = f.GetList("library-search-path"), ConfigSearchPaths = f.GetList("config-search-path"),
            IpcSockets = !features.WithoutIpcSockets, ExplicitLibraries = features.WithExplicitDriverLibraries,
        }, log);
        if (mode == "management")
            return Save(f, Devices.ModeSpecGenerator.Management(inv, hooks, vendor, cls, ids, !features.WithoutAdditionalGids), format, log);
        // GPUs read from procfs have no addressing mode: splitting them would call every one non-coherent.
        var split = features.SplitByCoherence && inv.GpuSource == "nvml";
        if (features.SplitByCoherence && !split)
            log.Warning($"Feature flag {NvcdiFeatures.CoherentAnnotations}: NVML is not available, so no GPU's coherence is known and no split specs are written");
        var specs = SpecGenerator.GenerateAll(inv, hooks, new GenerateOptions
        {
            Vendor = vendor, Class = cls,
            NamingStrategies = f.GetList("device-name-strategy"), DeviceIds = ids, NoAllDevice = noAll,
            AdditionalGids = !features.WithoutAdditionalGids, SplitByCoherence = split,
        }, log);
        foreach (var generated in specs)
            Save(f, generated.Spec, format, log, generated.FileInfix);
        return 0;
    }

    /// <param name="fileInfix">Goes before the output file's extension (the coherence split's ".coherent").</param>
    static int Save(FlagSet f, Spec spec, SpecFormat format, Log log, string fileInfix = "")
    {
        var output = CoherenceSplit.WithInfix(f.Get("output"), fileInfix);
        var written = SpecWriter.Write(spec, output, format, formatExplicit: f.IsSet("format"), log);
        log.Info($"Generated CDI spec with version {spec.CdiVersion}");
        SayWhereWritten(output, written, log);
        return 0;
    }

    // A misspelt hook would otherwise change nothing without a word, as in the original.
    static void WarnUnknownHooks(FlagSet f, Log log)
    {
        foreach (var flag in new[] { "disable-hook", "enable-hook" })
            foreach (var name in f.GetList(flag).Distinct().Where(n => n != "all" && !HookFactory.KnownHooks.Contains(n)))
                log.Warning($"Ignoring unknown hook '{name}' in --{flag}: the hooks are {string.Join(", ", HookFactory.KnownHooks)}" +
                            (flag == "disable-hook" ? " (or all)" : ""));
    }

    /// <summary>Names the file written; an --output that names a directory is written beside it as the original does, and said so.</summary>
    internal static void SayWhereWritten(string? output, string written, Log log)
    {
        if (written == "-") return;
        if (!string.IsNullOrEmpty(output) && (output.EndsWith('/') || Directory.Exists(output)))
            log.Warning($"--output {output} is a directory: the spec was written to {written}, as the original does; " +
                        $"name the file to write into it (e.g. --output={Path.Combine(output, "nvidia.yaml")})");
        log.Info($"Wrote CDI spec to {written}");
    }

    /// <summary>nvidia-container-cli.root of the config file named by the global --config (or $NVIDIA_CTK_CONFIG); null without one.</summary>
    static string? ConfiguredDriverRoot(string? path)
    {
        if (string.IsNullOrEmpty(path)) return null;
        if (Directory.Exists(path)) throw new GantryException($"config file {path} (from --config or NVIDIA_CTK_CONFIG) is a directory, not a file");
        if (!File.Exists(path)) throw new GantryException($"config file {path} (from --config or NVIDIA_CTK_CONFIG) does not exist");
        var root = Config.ToolkitConfigFile.Load(path).NvidiaContainerCli.Root;
        return string.IsNullOrEmpty(root) ? null : root;
    }
}

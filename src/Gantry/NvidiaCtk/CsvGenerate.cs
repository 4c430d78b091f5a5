using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery.Tegra;
using Gantry.Host;

namespace Gantry.NvidiaCtk;

// `nvidia-ctk cdi generate --mode csv` (or auto on a Tegra system without NVML): the spec of the CSV mount specs.
internal static class CsvGenerate
{
    public const string DefaultDirectory = "/etc/nvidia-container-runtime/host-files-for-container.d";

    public static int Run(FlagSet f, HostRoots roots, SpecFormat format, bool noAll, Log log)
    {
        var files = f.GetList("csv.file");
        if (files.Count == 0) files = CsvMountSpecs.DefaultFiles.Select(n => Path.Combine(DefaultDirectory, n)).ToList();
        var entries = CsvMountSpecs.Load(files.Where(File.Exists), log);
        foreach (var missing in files.Where(p => !File.Exists(p))) log.Warning($"Skipping {missing}: no such file");
        var nvml = TegraPlatform.Nvml(roots, log);
        var hooks = new HookFactory(HookFactory.ResolvePath(f.Get("nvidia-cdi-hook-path")), f.GetList("disable-hook"), f.GetList("enable-hook"))
        {
            LdconfigPath = f.Get("ldconfig-path"),
        };
        var spec = CsvSpecGenerator.Generate(roots, entries, hooks, new CsvGenerateOptions
        {
            Vendor = f.GetOr("vendor", "nvidia.com"), Class = f.GetOr("class", "gpu"), DeviceIds = f.GetList("device-id"), NoAllDevice = noAll,
            HostCudaVersion = nvml?.CudaVersionText, IgnorePatterns = f.GetList("csv.ignore-pattern"),
            CompatContainerRoot = TegraPlatform.CompatContainerRoot(f.Get("csv.compat-container-root"), nvml) ?? TegraPlatform.OrinCompatRoot,
        });
        var written = SpecWriter.Write(spec, f.Get("output"), format, formatExplicit: f.IsSet("format"), log);
        log.Info($"Generated CDI spec with version {spec.CdiVersion}");
        CdiGenerateCommand.SayWhereWritten(f.Get("output"), written, log);
        return 0;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.DevicePlugin;

// gpu-feature-discovery: writes node-feature-discovery's features file (lines name=value) with upstream's label
// names, once (--oneshot) or every --sleep-interval, from the same discovery and config file as the plugin.
internal static class FeatureDiscovery
{
    public const string DefaultOutput = "/etc/kubernetes/node-feature-discovery/features.d/gfd";

    static FlagSet Flags() => PluginSettings.Flags()
        .Bool("oneshot", "label once and exit", env: ["GFD_ONESHOT"])
        .Bool("no-timestamp", "do not add the nvidia.com/gfd.timestamp label", env: ["GFD_NO_TIMESTAMP"])
        .String("output-file", "the features file to write", DefaultOutput, aliases: ["o"], env: ["GFD_OUTPUT_FILE"])
        .String("sleep-interval", "time between two labellings", "60s", env: ["GFD_SLEEP_INTERVAL"])
        .String("machine-type-file", "the file that names the machine type", "/sys/class/dmi/id/product_name", env: ["GFD_MACHINE_TYPE_FILE"]);

    // The plugin's flags that the labeller refuses are left out of its usage.
    static string Usage() => string.Concat(Flags().Usage().Split('\n').Where(l => l.Length > 0)
        .Where(l => !PluginSettings.PluginOnlyFlags.Any(p => l.TrimStart().StartsWith($"--{p} ", StringComparison.Ordinal) ||
                                                             l.TrimStart().StartsWith($"--{p}\t", StringComparison.Ordinal)))
        .Select(l => l + "\n"));

    public static int Run(string[] args)
    {
        var log = new Log(Console.Error, LogLevel.Info);
        FlagSet f;
        PluginSettings settings;
        TimeSpan interval;
        try
        {
            if (args is ["-h" or "-help" or "--help"]) { Console.Error.Write($"Usage of gpu-feature-discovery:\n{Usage()}"); return 0; }
            f = Flags().Parse(args);
            if (PluginSettings.PluginOnlyFlags.FirstOrDefault(f.IsSetOnCommandLine) is { } pluginOnly)
                throw new UsageException($"--{pluginOnly} is a flag of nvidia-device-plugin; gpu-feature-discovery does not use it");
            if (f.GetBool("version")) { Console.WriteLine($"gpu-feature-discovery version {Program.Version} (Gantry)"); return 0; }
            settings = PluginSettings.From(f);
            interval = ParseInterval(f.GetOr("sleep-interval", "60s"));
        }
        catch (UsageException e) { Console.Error.WriteLine($"gpu-feature-discovery: {e.Message}"); return 2; }
        catch (ConfigException e) { log.Error(e.Message); return 1; }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        var output = f.GetOr("output-file", DefaultOutput);
        while (true)
        {
            try
            {
                using var host = HostDevices.Open(settings.DriverRoot, settings.DevRoot, log);
                var labels = GpuLabels.For(host.Nvml.Snapshot, settings, MachineType(f.GetOr("machine-type-file", "")),
                    f.GetBool("no-timestamp") ? null : DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
                AtomicFile.WriteText(output, string.Concat(labels.Select(l => $"{l.Key}={l.Value}\n")));
                log.Info($"Wrote {labels.Count} labels to {output}");
            }
            catch (Exception e) when (e is GantryException or ConfigException or IOException or UnauthorizedAccessException)
            {
                log.Error(e.Message);
                if (f.GetBool("oneshot") || settings.FailOnInitError) return 1;
            }
            if (f.GetBool("oneshot")) return 0;
            if (stop.Token.WaitHandle.WaitOne(interval)) return 0;
        }
    }

    static TimeSpan ParseInterval(string v)
    {
        var units = new (string Suffix, double Seconds)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600) };
        foreach (var (suffix, seconds) in units)
            if (v.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(v[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
                return TimeSpan.FromSeconds(n * seconds);
        throw new UsageException($"--sleep-interval must be a duration such as 60s, got '{v}'");
    }

    static string? MachineType(string file)
    {
        try { return File.Exists(file) ? File.ReadAllText(file).Trim() : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}

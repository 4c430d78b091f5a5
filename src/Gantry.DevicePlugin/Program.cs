using System.Runtime.InteropServices;
using Gantry.Common;

namespace Gantry.DevicePlugin;

// nvidia-device-plugin: the kubelet's device plugin for NVIDIA GPUs over Gantry's discovery. Started as
// gpu-feature-discovery (a link to this binary) it is the node labeller instead.
internal static class Program
{
    public const string Version = "0.1.0";

    static int Main(string[] args)
    {
        var name = Path.GetFileName(Environment.GetCommandLineArgs() is { Length: > 0 } argv ? argv[0] : "nvidia-device-plugin");
        if (name == "gpu-feature-discovery") return FeatureDiscovery.Run(args);
        if (args is ["-h" or "-help" or "--help"])
        {
            Console.Error.Write($"Usage of {name}:\n{PluginSettings.Flags().Usage()}");
            return 0;
        }
        var log = new Log(Console.Error, Environment.GetEnvironmentVariable("GANTRY_DEBUG") is { Length: > 0 } ? LogLevel.Debug : LogLevel.Info);
        var factory = new FlagSetFactory(args);
        PluginSettings settings;
        try
        {
            var flags = factory.Parse();
            if (flags.GetBool("version")) { Console.WriteLine($"{name} version {Version} (Gantry)"); return 0; }
            if (flags.Positionals.Count > 0) throw new UsageException($"unexpected argument '{flags.Positionals[0]}'");
            settings = PluginSettings.From(flags);
        }
        catch (UsageException e) { Console.Error.Write($"{name}: {e.Message}\nUsage of {name}:\n{PluginSettings.Flags().Usage()}"); return 2; }
        catch (ConfigException e) { log.Error(e.Message); return 1; }

        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext c) { c.Cancel = true; stop.Cancel(); }

        log.Info($"Starting nvidia-device-plugin {Version} (Gantry): MIG strategy {settings.MigStrategy.ToString().ToLowerInvariant()}, " +
                 $"device list strategies {string.Join(",", settings.DeviceListStrategies)}, device ids {settings.DeviceIdStrategy.ToString().ToLowerInvariant()}");
        HostDevices host;
        try { host = HostDevices.Open(settings.DriverRoot, settings.DevRoot, log); }
        catch (GantryException e) { return InitFailed(settings, log, e.Message, stop.Token); }
        using (host)
        {
            var health = new DeviceHealth();
            using var watcher = HealthWatcher.Start(host, settings.Health, health, log, stop.Token);
            try { new PluginRunner(factory, host, health, log).RunAsync(settings, stop.Token).GetAwaiter().GetResult(); }
            catch (Exception e) when (e is ConfigException or GantryException or IOException or UnauthorizedAccessException)
            { return InitFailed(settings, log, e.Message, stop.Token); }
        }
        log.Info("Stopped");
        return 0;
    }

    // Upstream: with fail-on-init-error false the plugin blocks instead of exiting, so the DaemonSet pod stays up
    // on a node without GPUs.
    static int InitFailed(PluginSettings settings, Log log, string message, CancellationToken stop)
    {
        log.Error(message);
        if (settings.FailOnInitError) return 1;
        log.Info("fail-on-init-error is false: blocking instead of exiting");
        stop.WaitHandle.WaitOne();
        return 0;
    }
}

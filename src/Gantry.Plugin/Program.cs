using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.NvidiaDocker;

namespace Gantry.Plugin;

// nvidia-docker-plugin: serves the driver volume to Docker (volume plugin protocol on a unix socket) and the
// REST API about this host's GPUs (TCP, default localhost:3476), until SIGTERM or SIGINT; then both servers
// finish the requests in flight (5 s at most) and the socket is removed.
internal static class Program
{
    public const string Version = "0.1.0";
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    static int Main(string[] args)
    {
        var program = Environment.GetCommandLineArgs() is { Length: > 0 } argv ? argv[0] : "nvidia-docker-plugin";
        PluginOptions options;
        if (args is ["-h" or "-help" or "--help"])
        {
            Console.Error.Write($"Usage of {program}:\n{PluginOptions.Usage}");
            return 0;
        }
        try { options = PluginOptions.Parse(args); }
        catch (UsageException e)
        {
            Console.Error.Write($"{e.Message}\nUsage of {program}:\n{PluginOptions.Usage}");
            return 2;
        }
        if (options.PrintVersion)
        {
            Console.WriteLine($"NVIDIA Docker plugin: {Version}");
            return 0;
        }
        var writer = new PluginLogWriter(program, Console.Error);
        var log = new Log(writer, Environment.GetEnvironmentVariable("NV_DEBUG") is { Length: > 0 } ? LogLevel.Debug : LogLevel.Info);
        try { return Serve(options, log); }
        catch (Exception e) when (e is GantryException or IOException or UnauthorizedAccessException)
        {
            writer.WriteLine($"Error: {e.Message}");
            return 1;
        }
    }

    static int Serve(PluginOptions o, Log log)
    {
        var roots = new HostRoots(o.DriverRoot, o.DevRoot);
        if (!Directory.Exists(roots.DriverRoot))
            throw new GantryException($"driver root {roots.DriverRoot} does not exist; point --driver-root at the directory the driver is installed in");
        log.Info("Loading NVIDIA unified memory");
        UvmModule.Ensure(roots);

        log.Info("Loading NVIDIA management library");
        var inventory = DriverDiscovery.Discover(roots, new DiscoveryOptions(), Log.Silent);
        using var host = NvmlGpuHost.Open(inventory, log);

        log.Info("Discovering GPU devices");
        log.Info($"Found {host.Gpus.Count} GPU(s), driver {host.DriverVersion}, CUDA {host.CudaVersion}");

        log.Info($"Provisioning volumes at {o.VolumesDir}");
        var store = new VolumeStore(o.VolumesDir, () => DriverVolumeFiles.Collect(roots, log), new VolumeBuilder(LinuxFileCloner.Instance, log), log);
        var volumes = new VolumePluginApi(store, host.DriverVersion, log);
        var remote = new RemoteApi(host, log);

        Directory.CreateDirectory(o.SocketDir, (UnixFileMode)0b111_000_000);
        if (File.Exists(o.SocketPath)) File.Delete(o.SocketPath);
        var servers = new[]
        {
            PluginServer.Create("plugin API", PluginServer.Unix(o.SocketPath), r => volumes.Handle(r.Method, r.Path, r.Accept, r.Body), log),
            PluginServer.Create("remote API", PluginServer.Tcp(o.ListenAddress), r => remote.Handle(r.Method, r.Path, r.Query), log),
        };
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext c) { c.Cancel = true; stop.Cancel(); }

        try
        {
            foreach (var s in servers) s.StartAsync(stop.Token).GetAwaiter().GetResult();
            log.Info($"Serving plugin API at {o.SocketDir}");
            log.Info($"Serving remote API at {string.Join(", ", servers[1].Addresses.Select(a => a.Replace("http://", "")))}");
            if (o.SpecFile is not null) AtomicFile.WriteText(o.SpecFile, $"unix://{o.SocketPath}\n");
            stop.Token.WaitHandle.WaitOne();
            log.Info("Shutting down");
            Task.WaitAll(servers.Select(s => s.StopAsync(Grace)).ToArray());
        }
        finally
        {
            foreach (var s in servers) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (o.SpecFile is not null) File.Delete(o.SpecFile);
            File.Delete(o.SocketPath);
        }
        log.Info("Successfully terminated");
        return 0;
    }
}

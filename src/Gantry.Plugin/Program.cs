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
        // Everything that can be refused is checked before the first side effect (module, volumes, socket directory).
        var listen = PluginServer.Tcp(o.Listen);
        var roots = new HostRoots(o.DriverRoot, o.DevRoot);
        if (!Directory.Exists(roots.DriverRoot))
            throw new GantryException($"driver root {roots.DriverRoot} does not exist; point --driver-root at the directory the driver is installed in");
        foreach (var (flag, dir) in new[] { ("-s", o.SocketDir), ("-d", o.VolumesDir) })
            if (NotADirectory(dir) is { } file) throw new GantryException($"{flag} {dir}: {file} is a file, not a directory");
        log.Info("Loading NVIDIA unified memory");
        UvmModule.Ensure(roots);

        log.Info("Loading NVIDIA management library");
        var inventory = DriverDiscovery.Discover(roots, new DiscoveryOptions(), Log.Silent);
        using var host = NvmlGpuHost.Open(inventory, log);

        log.Info("Discovering GPU devices");
        log.Info($"Found {host.Gpus.Count} GPU(s), driver {host.DriverVersion}, CUDA {host.CudaVersion}");

        log.Info($"Provisioning volumes at {o.VolumesDir}");
        var store = new VolumeStore(o.VolumesDir, () => DriverVolumeFiles.Collect(roots, log), new VolumeBuilder(LinuxFileCloner.Instance, log), log);
        store.RemoveAbandonedStaging(); // a plugin killed (SIGKILL, OOM) while building a volume
        var volumes = new VolumePluginApi(store, host.DriverVersion, log);
        var remote = new RemoteApi(host, log);

        var servers = new[]
        {
            PluginServer.Create("plugin API", PluginServer.Unix(o.SocketPath), r => volumes.Handle(r.Method, r.Path, r.Accept, r.Body), log),
            PluginServer.Create("remote API", listen, r => remote.Handle(r.Method, r.Path, r.Query), log),
        };
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext c) { c.Cancel = true; stop.Cancel(); }

        // The remote API binds first: a busy port then fails before the socket directory exists.
        CreatedDirectories? socketDir = null;
        var started = false;
        try
        {
            StartRemote(servers[1], o.ListenAddress, stop.Token);
            try { socketDir = CreatedDirectories.Create(o.SocketDir, (UnixFileMode)0b111_000_000); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new GantryException($"cannot create the socket directory {o.SocketDir}: {WriteFailure.Cause(o.SocketPath, e)}"); }
            if (File.Exists(o.SocketPath)) File.Delete(o.SocketPath);
            servers[0].StartAsync(stop.Token).GetAwaiter().GetResult();
            started = true;
            // Announced before the "Serving" lines, so that whoever waits for them finds the spec file too.
            if (o.SpecFile is not null) AtomicFile.WriteText(o.SpecFile, $"unix://{o.SocketPath}\n");
            log.Info($"Serving plugin API at {o.SocketDir}");
            log.Info($"Serving remote API at {string.Join(", ", servers[1].Addresses.Select(a => a.Replace("http://", "")))}");
            stop.Token.WaitHandle.WaitOne();
            log.Info("Shutting down");
            Task.WaitAll(servers.Select(s => s.StopAsync(Grace)).ToArray());
        }
        finally
        {
            foreach (var s in servers) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (started && o.SpecFile is not null) File.Delete(o.SpecFile);
            if (socketDir is not null)
            {
                File.Delete(o.SocketPath);
                if (!started) socketDir.RemoveIfEmpty();
            }
        }
        log.Info("Successfully terminated");
        return 0;
    }

    /// <summary>The file that stands where <paramref name="dir"/> or one of its parents should be a directory, if any.</summary>
    static string? NotADirectory(string dir)
    {
        for (var p = Path.GetFullPath(dir); p is not null; p = Path.GetDirectoryName(p))
            if (File.Exists(p)) return p;
        return null;
    }

    static void StartRemote(PluginServer server, string address, CancellationToken cancel)
    {
        try { server.StartAsync(cancel).GetAwaiter().GetResult(); }
        catch (IOException e)
        {
            // Kestrel wraps the bind's error (AddressInUseException around a SocketException): name the cause, not the wrapping.
            Exception inner = e;
            var inUse = false;
            for (; ; inner = inner.InnerException!)
            {
                inUse |= inner is Microsoft.AspNetCore.Connections.AddressInUseException
                         or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse };
                if (inner.InnerException is null) break;
            }
            var cause = inUse ? "the address is already in use" : inner.Message;
            throw new GantryException($"cannot listen on {address}: {cause}");
        }
    }
}

using Gantry.Common;

namespace Gantry.DevicePlugin;

// Keeps the plugin's servers registered: starts a server per resource, registers each with the kubelet, and every
// PollInterval checks (1) kubelet.sock: recreated (a kubelet restart) → restart every server and register again;
// (2) each own socket: deleted → recreate it and register again; (3) unregistered servers: retry each second;
// (4) the config file: changed and valid → rebuild the resources and start over; invalid → keep serving, say why.
internal sealed class PluginRunner(FlagSetFactory flags, HostDevices host, DeviceHealth health, Log log)
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    public async Task RunAsync(PluginSettings settings, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var next = await ServeAsync(settings, stop);
            if (next is null) return;
            settings = next;
        }
    }

    /// <summary>Serves one configuration until stopped (null) or until the config file gives a new one.</summary>
    async Task<PluginSettings?> ServeAsync(PluginSettings settings, CancellationToken stop)
    {
        var resources = ResourceBuilder.Build(host.Gpus, settings, host.NumaNode);
        if (settings.UsesCdi) CdiSpecs.Write(host, settings, log);
        var servers = resources.Select(r => new ResourceServer(
            new DevicePluginService(r, new AllocationAnswers(r, settings, health, host), new PreferredAllocation(r, host.Distance), health, log),
            r, settings.KubeletDir, log)).ToList();
        foreach (var r in resources) log.Info($"Resource {r.Name}: {r.Devices.Count} device(s){(r.Shared ? " (time-sliced)" : "")}");
        try
        {
            foreach (var s in servers) await s.StartAsync();
            var kubelet = settings.KubeletSocket;
            var kubeletStamp = FileStamp.Of(kubelet);
            var configStamp = settings.ConfigFile is null ? default : FileStamp.Of(settings.ConfigFile);
            var lastTry = DateTime.MinValue;
            if (kubeletStamp.Exists) { foreach (var s in servers) await s.RegisterAsync(kubelet); lastTry = DateTime.UtcNow; }
            else log.Info($"Waiting for the kubelet: {kubelet} does not exist yet");

            while (!stop.IsCancellationRequested)
            {
                try { await Task.Delay(PollInterval, stop); } catch (OperationCanceledException) { break; }

                try
                {
                    var now = FileStamp.Of(kubelet);
                    if (now != kubeletStamp)
                    {
                        kubeletStamp = now;
                        if (now.Exists)
                        {
                            log.Info($"{kubelet} created: the kubelet (re)started; restarting the plugin servers and registering");
                            foreach (var s in servers) { await s.StartAsync(); await s.RegisterAsync(kubelet); }
                            lastTry = DateTime.UtcNow;
                        }
                        else log.Info($"{kubelet} removed: waiting for the kubelet");
                    }
                    foreach (var s in servers)
                    {
                        if (File.Exists(s.SocketPath)) continue;
                        log.Info($"{s.SocketPath} was deleted: recreating it");
                        await s.StartAsync();
                        if (kubeletStamp.Exists) await s.RegisterAsync(kubelet);
                    }
                    if (kubeletStamp.Exists && DateTime.UtcNow - lastTry > RetryInterval && servers.Any(s => !s.Registered))
                    {
                        lastTry = DateTime.UtcNow;
                        foreach (var s in servers.Where(s => !s.Registered)) await s.RegisterAsync(kubelet);
                    }
                    if (settings.ConfigFile is { } file && FileStamp.Of(file) is var cs && cs != configStamp)
                    {
                        configStamp = cs;
                        if (Reload(file) is { } reloaded) return reloaded;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    // A socket that cannot be served now (a directory gone, a full disk): said, and tried again next round.
                    log.Error($"Serving the plugin sockets in {settings.KubeletDir}: {e.Message}; retrying");
                }
            }
            return null;
        }
        finally
        {
            foreach (var s in servers) await s.DisposeAsync();
        }
    }

    PluginSettings? Reload(string file)
    {
        PluginSettings next;
        try
        {
            next = PluginSettings.From(flags.Parse());
            ResourceBuilder.Build(host.Gpus, next, host.NumaNode);
        }
        catch (Exception e) when (e is ConfigException or UsageException)
        {
            log.Error($"Not reloading {file}: {e.Message}; still serving the previous configuration");
            return null;
        }
        log.Info($"{file} changed: restarting the plugin with the new configuration");
        return next;
    }
}

/// <summary>Re-parses the command line (with the environment and the config file read again).</summary>
internal sealed class FlagSetFactory(IReadOnlyList<string> args)
{
    public Gantry.Common.FlagSet Parse() => PluginSettings.Flags().Parse(args);
}

/// <summary>Enough of a file's identity to notice it was replaced or rewritten: existence, mtime, size.</summary>
internal readonly record struct FileStamp(bool Exists, long Ticks, long Length)
{
    public static FileStamp Of(string path)
    {
        try
        {
            var info = new FileInfo(path);
            // FileInfo reports a unix socket as a file that exists.
            return info.Exists ? new FileStamp(true, info.LastWriteTimeUtc.Ticks, info.Length) : default;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return default; }
    }
}

using Gantry.Common;
using Gantry.Discovery.Nvml;

namespace Gantry.DevicePlugin;

// NVML health checks on a thread of their own. Unhealthy: an Xid critical error that is not an application error
// (upstream's ignore list plus DP_DISABLE_HEALTHCHECKS), a double-bit ECC error, or a GPU NVML reports lost.
// Unlike upstream, a device is Healthy again once NVML answers for its GPU and no fault came for the recovery
// interval (--health-recovery, default 30 s; "never" keeps upstream's behaviour).
internal sealed class HealthWatcher : IDisposable
{
    static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);
    const uint WaitMs = 100;

    readonly HostDevices _host;
    readonly HealthCheckSettings _settings;
    readonly DeviceHealth _health;
    readonly Log _log;
    readonly CancellationTokenSource _cancel;
    readonly CancellationToken _stop;
    readonly Thread _thread;
    readonly Dictionary<string, DateTime> _lastFault = new(StringComparer.Ordinal);

    HealthWatcher(HostDevices host, HealthCheckSettings settings, DeviceHealth health, Log log, CancellationToken stop)
    {
        (_host, _settings, _health, _log) = (host, settings, health, log);
        // Its own token too: Dispose stops the thread before the NVML session it uses is closed.
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _stop = _cancel.Token;
        _thread = new Thread(Run) { IsBackground = true, Name = "nvml-health" };
    }

    public static HealthWatcher? Start(HostDevices host, HealthCheckSettings settings, DeviceHealth health, Log log, CancellationToken stop)
    {
        if (!settings.Enabled) { log.Info("Health checks are disabled (DP_DISABLE_HEALTHCHECKS=all)"); return null; }
        var w = new HealthWatcher(host, settings, health, log, stop);
        w._thread.Start();
        return w;
    }

    void Run()
    {
        var types = NvmlEvent.DoubleBitEcc | (_settings.Xids ? NvmlEvent.XidCritical : 0);
        using var events = _host.Nvml.CreateEventSet(types, out var error);
        if (events is null) _log.Warning($"NVML health events unavailable: {error}; only probing GPUs");
        foreach (var (gpu, code) in events?.NotRegistered ?? [])
            _log.Warning($"GPU {gpu}: NVML event registration failed ({_host.Nvml.Describe(code)}); probing it only");
        var nextProbe = DateTime.UtcNow;
        while (!_stop.IsCancellationRequested)
        {
            if (events is null) _stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(WaitMs));
            else if (events.Wait(WaitMs, out var code) is { } e) OnEvent(e);
            else if (code is not (0 or NvmlEventSet.Timeout))
            {
                _log.Warning($"NVML event wait failed: {_host.Nvml.Describe(code)}");
                _stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(WaitMs));
            }
            if (DateTime.UtcNow >= nextProbe) { Probe(); nextProbe = DateTime.UtcNow + ProbeInterval; }
        }
    }

    void OnEvent(NvmlEvent e)
    {
        if (e.GpuIndex < 0 || e.GpuIndex >= _host.Gpus.Count) return;
        string why;
        if (e.IsXid)
        {
            if (_settings.IgnoredXids.Contains(e.Data)) { _log.Info($"GPU {e.GpuIndex}: Xid {e.Data} is an application error; ignored"); return; }
            why = $"Xid {e.Data}";
        }
        else if ((e.Type & NvmlEvent.DoubleBitEcc) != 0) why = "double-bit ECC error";
        else return;
        foreach (var uuid in Affected(e)) MarkUnhealthy(uuid, why);
    }

    // A MIG device's instances name it; otherwise the GPU and all its MIG devices.
    IEnumerable<string> Affected(NvmlEvent e)
    {
        var gpu = _host.Gpus[e.GpuIndex];
        if (e.GpuInstance is { } gi && e.ComputeInstance is { } ci && gpu.MigDevices.FirstOrDefault(m => m.GpuInstanceId == gi && m.ComputeInstanceId == ci) is { } mig)
            return [mig.Uuid];
        return [gpu.Uuid, .. gpu.MigDevices.Select(m => m.Uuid)];
    }

    void MarkUnhealthy(string uuid, string why)
    {
        _lastFault[uuid] = DateTime.UtcNow;
        if (_health.Set(uuid, false, why)) _log.Warning($"Device {uuid} is unhealthy: {why}");
    }

    void Probe()
    {
        var recovery = _settings.RecoveryAfter;
        foreach (var gpu in _host.Gpus)
        {
            var code = _host.Nvml.Probe(gpu.Index);
            var uuids = new[] { gpu.Uuid }.Concat(gpu.MigDevices.Select(m => m.Uuid));
            if (code == NvmlEventSet.GpuIsLost)
            {
                foreach (var u in uuids) MarkUnhealthy(u, "GPU is lost");
                continue;
            }
            if (recovery is null || code != 0) continue;
            foreach (var u in uuids)
            {
                if (_health.IsHealthy(u) || DateTime.UtcNow - _lastFault.GetValueOrDefault(u) < recovery) continue;
                if (_health.Set(u, true)) _log.Info($"Device {u} is healthy again (NVML answers, no fault for {recovery.Value.TotalSeconds:0.#} s)");
            }
        }
    }

    public void Dispose()
    {
        _cancel.Cancel();
        _thread.Join();
        _cancel.Dispose();
    }
}

namespace Gantry.DevicePlugin;

/// <summary>
/// The health of every physical device by UUID, shared by all resources of the plugin. A change bumps the
/// generation and wakes every ListAndWatch stream, which then sends its full list again.
/// </summary>
internal sealed class DeviceHealth
{
    readonly object _gate = new();
    readonly Dictionary<string, string> _unhealthy = new(StringComparer.Ordinal); // uuid → why
    TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Generation { get; private set; }

    public bool IsHealthy(string uuid) { lock (_gate) return !_unhealthy.ContainsKey(uuid); }

    public string? WhyUnhealthy(string uuid) { lock (_gate) return _unhealthy.GetValueOrDefault(uuid); }

    /// <summary>Marks a device; returns true when that changed its state.</summary>
    public bool Set(string uuid, bool healthy, string why = "")
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            var was = !_unhealthy.ContainsKey(uuid);
            if (was == healthy) return false;
            if (healthy) _unhealthy.Remove(uuid); else _unhealthy[uuid] = why;
            Generation++;
            wake = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
        return true;
    }

    /// <summary>A task that completes at the next change.</summary>
    public Task NextChange() { lock (_gate) return _changed.Task; }

    public IReadOnlyList<string> Unhealthy() { lock (_gate) return _unhealthy.Keys.ToList(); }
}

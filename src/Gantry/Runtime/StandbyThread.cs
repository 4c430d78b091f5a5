namespace Gantry.Runtime;

// A thread started before it is needed: the served hook's work runs on it when the client connects, so starting
// a thread (~0.3 ms, more on a busy machine) is off the path runc waits on. It serves once; a later Run gets a
// fresh thread, and Dispose lets an unused one end.
internal sealed class StandbyThread : IDisposable
{
    readonly SemaphoreSlim _go = new(0, 1);
    readonly Thread _thread;
    Action? _work;
    int _taken;

    public StandbyThread(string name)
    {
        _thread = new Thread(() => { _go.Wait(); _work?.Invoke(); }) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs work on the standby thread, or on a new one once that was taken; returns the thread that runs it.</summary>
    public Thread Run(Action work)
    {
        if (Interlocked.Exchange(ref _taken, 1) == 0)
        {
            _work = work;
            _go.Release();
            return _thread;
        }
        var fresh = new Thread(() => work()) { Name = _thread.Name };
        fresh.Start();
        return fresh;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _taken, 1) == 0) _go.Release();
    }
}

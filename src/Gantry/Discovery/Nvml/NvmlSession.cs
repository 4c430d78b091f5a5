using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

/// <summary>
/// An NVML library loaded and initialised for as long as the session lives: the snapshot of discovery, then
/// live readings for daemons (the nvidia-docker plugin) that ask again and again. Dispose shuts NVML down and
/// unloads the library. Thread-safe as NVML itself is.
/// </summary>
internal sealed unsafe class NvmlSession : IDisposable
{
    readonly nint _library;
    readonly NvmlApi _api;
    readonly NvmlTelemetryReader _telemetry;
    readonly nint[] _handles;
    int _disposed;

    public NvmlSnapshot Snapshot { get; }
    public string LibraryPath { get; }

    NvmlSession(nint library, string path, NvmlApi api, NvmlSnapshot snapshot)
    {
        _library = library;
        _api = api;
        LibraryPath = path;
        Snapshot = snapshot;
        _telemetry = new NvmlTelemetryReader(api, NvmlTelemetryApi.Resolve(library));
        _handles = new nint[snapshot.Gpus.Count];
        for (var i = 0; i < _handles.Length; i++)
        {
            nint h;
            var rc = api.DeviceGetHandleByIndex((uint)i, &h);
            if (rc != NvmlReturn.Success) throw new NvmlCallException(rc, $"nvml error: {api.Describe(rc)} calling nvmlDeviceGetHandleByIndex_v2 (GPU {i})");
            _handles[i] = h;
        }
    }

    /// <summary>Loads, resolves and initialises NVML and reads its snapshot; every failure is an error string.</summary>
    public static bool TryOpen(string libraryPath, [NotNullWhen(true)] out NvmlSession? session, [NotNullWhen(false)] out string? error)
    {
        session = null;
        string path;
        try { path = Path.GetFullPath(libraryPath); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            error = $"nvml error: invalid library path '{libraryPath}': {e.Message}";
            return false;
        }
        if (!File.Exists(path))
        {
            error = $"nvml error: library {path} does not exist";
            return false;
        }

        nint library;
        try { library = NativeLibrary.Load(path); }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            error = $"nvml error: cannot load {path}: {LastLine(e.Message)}";
            return false;
        }

        NvmlApi? api = null;
        var initialised = false;
        try
        {
            if (!NvmlApi.TryResolve(library, path, out api, out error)) return false;
            var rc = api.Init();
            if (rc != NvmlReturn.Success)
            {
                error = $"nvml error: {api.Describe(rc)} calling nvmlInit_v2 ({path})";
                return false;
            }
            initialised = true;
            session = new NvmlSession(library, path, api, new NvmlReader(api).Read());
            error = null;
            return true;
        }
        catch (NvmlCallException e)
        {
            error = e.Message;
            return false;
        }
        finally
        {
            if (session is null)
            {
                if (initialised) api!.Shutdown();
                NativeLibrary.Free(library);
            }
        }
    }

    /// <summary>Limits and capabilities of GPU index (as in the snapshot).</summary>
    public GpuDetails Details(int index) => _telemetry.Details(Handle(index));

    /// <summary>A live reading of GPU index. Throws <see cref="NvmlCallException"/> on an NVML failure.</summary>
    public GpuStatus Status(int index) => _telemetry.Status(Handle(index), Snapshot.Gpus[index].MemoryBytes);

    /// <summary>The closest common PCI ancestor of two GPUs; null when the driver cannot tell.</summary>
    public GpuTopologyLevel? Topology(int a, int b) => _telemetry.Topology(Handle(a), Handle(b));

    /// <summary>An event set with every GPU registered for the given nvmlEventType bits; null with the reason if NVML cannot.</summary>
    public NvmlEventSet? CreateEventSet(ulong types, out string? error)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return NvmlEventSet.Create(_library, _handles, types, out error);
    }

    /// <summary>Whether GPU index answers NVML (nvmlDeviceGetMemoryInfo): 0, or NVML's code (15: the GPU is lost).</summary>
    public int Probe(int index)
    {
        NvmlMemory memory;
        return _api.DeviceGetMemoryInfo(Handle(index), &memory);
    }

    /// <summary>NVML's words for a return code.</summary>
    public string Describe(int code) => _api.Describe(code);

    nint Handle(int index)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _handles[index];
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _api.Shutdown();
        NativeLibrary.Free(_library);
    }

    // .NET prefixes dlerror's text with a paragraph of advice; the last line is the part that says why.
    static string LastLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }
}

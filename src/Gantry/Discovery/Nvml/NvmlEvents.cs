using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

/// <summary>One event NVML reported: its GPU (NVML index), type bits, data (the Xid) and MIG instances (or null).</summary>
internal readonly record struct NvmlEvent(int GpuIndex, ulong Type, ulong Data, uint? GpuInstance, uint? ComputeInstance)
{
    public const ulong SingleBitEcc = 0x1, DoubleBitEcc = 0x2, XidCritical = 0x8; // nvmlEventType*

    public bool IsXid => (Type & XidCritical) != 0;
}

/// <summary>nvmlEventData_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlEventData
{
    public nint Device;
    public ulong EventType;
    public ulong EventData;
    public uint GpuInstanceId;
    public uint ComputeInstanceId;
}

/// <summary>
/// An NVML event set with the GPUs registered (what a health checker waits on): nvmlEventSetCreate,
/// nvmlDeviceRegisterEvents (the types each GPU supports of those asked), nvmlEventSetWait_v2, nvmlEventSetFree.
/// </summary>
internal sealed unsafe class NvmlEventSet : IDisposable
{
    public const int Timeout = 10, GpuIsLost = 15; // NVML_ERROR_TIMEOUT, NVML_ERROR_GPU_IS_LOST

    readonly delegate* unmanaged<nint, NvmlEventData*, uint, int> _wait;
    readonly delegate* unmanaged<nint, int> _free;
    readonly nint _set;
    readonly nint[] _handles;
    int _disposed;

    /// <summary>The GPUs whose registration failed, with NVML's code (a GPU without event support is not an error).</summary>
    public IReadOnlyList<(int Gpu, int Code)> NotRegistered { get; }

    NvmlEventSet(nint set, nint[] handles, delegate* unmanaged<nint, NvmlEventData*, uint, int> wait, delegate* unmanaged<nint, int> free,
        List<(int, int)> failed)
    {
        _set = set;
        _handles = handles;
        _wait = wait;
        _free = free;
        NotRegistered = failed;
    }

    /// <summary>Null (with the reason) when the library has no event API or the set cannot be made.</summary>
    internal static NvmlEventSet? Create(nint library, nint[] handles, ulong types, out string? error)
    {
        nint Want(string name) => NativeLibrary.TryGetExport(library, name, out var a) ? a : 0;
        var create = (delegate* unmanaged<nint*, int>)Want("nvmlEventSetCreate");
        var register = (delegate* unmanaged<nint, ulong, nint, int>)Want("nvmlDeviceRegisterEvents");
        var supported = (delegate* unmanaged<nint, ulong*, int>)Want("nvmlDeviceGetSupportedEventTypes");
        var wait = (delegate* unmanaged<nint, NvmlEventData*, uint, int>)(Want("nvmlEventSetWait_v2") is var w and not 0 ? w : Want("nvmlEventSetWait"));
        var free = (delegate* unmanaged<nint, int>)Want("nvmlEventSetFree");
        if (create == null || register == null || wait == null || free == null)
        {
            error = "the NVML library has no event API (nvmlEventSetCreate, nvmlDeviceRegisterEvents, nvmlEventSetWait_v2)";
            return null;
        }
        nint set;
        var rc = create(&set);
        if (rc != 0) { error = $"nvmlEventSetCreate failed with code {rc}"; return null; }
        var failed = new List<(int, int)>();
        for (var i = 0; i < handles.Length; i++)
        {
            var want = types;
            ulong have;
            if (supported != null && supported(handles[i], &have) == 0) want &= have;
            if (want == 0) continue;
            rc = register(handles[i], want, set);
            if (rc != 0) failed.Add((i, rc));
        }
        error = null;
        return new NvmlEventSet(set, handles, wait, free, failed);
    }

    /// <summary>Waits up to timeoutMs: an event, or null on timeout. Any other NVML code comes back in <paramref name="code"/>.</summary>
    public NvmlEvent? Wait(uint timeoutMs, out int code)
    {
        NvmlEventData data;
        code = _wait(_set, &data, timeoutMs);
        if (code != 0) return null;
        var gpu = Array.IndexOf(_handles, data.Device);
        return new NvmlEvent(gpu, data.EventType, data.EventData,
            data.GpuInstanceId == uint.MaxValue ? null : data.GpuInstanceId, data.ComputeInstanceId == uint.MaxValue ? null : data.ComputeInstanceId);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _free(_set);
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

// The NVML entry points Gantry calls, resolved once from a loaded library into unmanaged function pointers.
// No delegates, no marshalling stubs: AOT-clean and the same for the real libnvidia-ml and the stand-in.
// Handles (nvmlDevice_t) are opaque pointers, nvmlReturn_t and nvmlBrandType_t are C enums (int).
internal sealed unsafe class NvmlApi
{
    public delegate* unmanaged<int> Init;                                      // nvmlInit_v2
    public delegate* unmanaged<int> Shutdown;
    public delegate* unmanaged<int, byte*> ErrorString;
    public delegate* unmanaged<byte*, uint, int> SystemGetDriverVersion;
    public delegate* unmanaged<int*, int> SystemGetCudaDriverVersion;
    public delegate* unmanaged<uint*, int> DeviceGetCount;                     // _v2
    public delegate* unmanaged<uint, nint*, int> DeviceGetHandleByIndex;       // _v2
    public delegate* unmanaged<nint, uint*, int> DeviceGetMinorNumber;
    public delegate* unmanaged<nint, NvmlPciInfo*, int> DeviceGetPciInfo;      // _v3
    public delegate* unmanaged<nint, byte*, uint, int> DeviceGetUuid;
    public delegate* unmanaged<nint, byte*, uint, int> DeviceGetName;
    public delegate* unmanaged<nint, int*, int> DeviceGetBrand;
    public delegate* unmanaged<nint, int*, int*, int> DeviceGetCudaComputeCapability;
    public delegate* unmanaged<nint, NvmlMemory*, int> DeviceGetMemoryInfo;

    // MIG arrived with driver 450; a library without nvmlDeviceGetMigMode simply has no MIG.
    public delegate* unmanaged<nint, uint*, uint*, int> DeviceGetMigMode;
    public delegate* unmanaged<nint, uint*, int> DeviceGetMaxMigDeviceCount;
    public delegate* unmanaged<nint, uint, nint*, int> DeviceGetMigDeviceHandleByIndex;
    public delegate* unmanaged<nint, uint*, int> DeviceGetGpuInstanceId;
    public delegate* unmanaged<nint, uint*, int> DeviceGetComputeInstanceId;

    public bool HasMig => DeviceGetMigMode != null;

    // Newer drivers only (the CDI generator's coherent annotations); absent means "not reported".
    public delegate* unmanaged<nint, NvmlAddressingMode*, int> DeviceGetAddressingMode;

    NvmlApi() { }

    /// <summary>Resolves every required export; on a miss, error names the first missing symbol.</summary>
    public static bool TryResolve(nint library, string libraryPath,
        [NotNullWhen(true)] out NvmlApi? api, [NotNullWhen(false)] out string? error)
    {
        string? missing = null;
        nint Need(string name)
        {
            if (NativeLibrary.TryGetExport(library, name, out var address)) return address;
            missing ??= name;
            return 0;
        }
        nint Want(string name) => NativeLibrary.TryGetExport(library, name, out var address) ? address : 0;

        var a = new NvmlApi
        {
            Init = (delegate* unmanaged<int>)Need("nvmlInit_v2"),
            Shutdown = (delegate* unmanaged<int>)Need("nvmlShutdown"),
            ErrorString = (delegate* unmanaged<int, byte*>)Need("nvmlErrorString"),
            SystemGetDriverVersion = (delegate* unmanaged<byte*, uint, int>)Need("nvmlSystemGetDriverVersion"),
            SystemGetCudaDriverVersion = (delegate* unmanaged<int*, int>)Need("nvmlSystemGetCudaDriverVersion"),
            DeviceGetCount = (delegate* unmanaged<uint*, int>)Need("nvmlDeviceGetCount_v2"),
            DeviceGetHandleByIndex = (delegate* unmanaged<uint, nint*, int>)Need("nvmlDeviceGetHandleByIndex_v2"),
            DeviceGetMinorNumber = (delegate* unmanaged<nint, uint*, int>)Need("nvmlDeviceGetMinorNumber"),
            DeviceGetPciInfo = (delegate* unmanaged<nint, NvmlPciInfo*, int>)Need("nvmlDeviceGetPciInfo_v3"),
            DeviceGetUuid = (delegate* unmanaged<nint, byte*, uint, int>)Need("nvmlDeviceGetUUID"),
            DeviceGetName = (delegate* unmanaged<nint, byte*, uint, int>)Need("nvmlDeviceGetName"),
            DeviceGetBrand = (delegate* unmanaged<nint, int*, int>)Need("nvmlDeviceGetBrand"),
            DeviceGetCudaComputeCapability = (delegate* unmanaged<nint, int*, int*, int>)Need("nvmlDeviceGetCudaComputeCapability"),
            DeviceGetMemoryInfo = (delegate* unmanaged<nint, NvmlMemory*, int>)Need("nvmlDeviceGetMemoryInfo"),
            DeviceGetMigMode = (delegate* unmanaged<nint, uint*, uint*, int>)Want("nvmlDeviceGetMigMode"),
            DeviceGetAddressingMode = (delegate* unmanaged<nint, NvmlAddressingMode*, int>)Want("nvmlDeviceGetAddressingMode"),
        };
        if (a.HasMig)
        {
            a.DeviceGetMaxMigDeviceCount = (delegate* unmanaged<nint, uint*, int>)Need("nvmlDeviceGetMaxMigDeviceCount");
            a.DeviceGetMigDeviceHandleByIndex = (delegate* unmanaged<nint, uint, nint*, int>)Need("nvmlDeviceGetMigDeviceHandleByIndex");
            a.DeviceGetGpuInstanceId = (delegate* unmanaged<nint, uint*, int>)Need("nvmlDeviceGetGpuInstanceId");
            a.DeviceGetComputeInstanceId = (delegate* unmanaged<nint, uint*, int>)Need("nvmlDeviceGetComputeInstanceId");
        }
        if (missing is not null)
        {
            api = null;
            error = $"nvml error: symbol {missing} not found in {libraryPath} (not an NVML library, or too old)";
            return false;
        }
        api = a;
        error = null;
        return true;
    }

    /// <summary>nvmlErrorString of a code, falling back to the number if the library gives nothing.</summary>
    public string Describe(int code)
    {
        var text = ErrorString(code);
        return text == null ? $"error {code}" : Marshal.PtrToStringUTF8((nint)text) ?? $"error {code}";
    }
}

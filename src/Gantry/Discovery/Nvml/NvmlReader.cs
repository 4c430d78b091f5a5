namespace Gantry.Discovery.Nvml;

// Walks an initialised NVML through the calls libnvidia-container makes (reference §6.1) and builds the
// snapshot. A failing call throws NvmlCallException, which NvmlLibrary turns into an error string.
internal sealed unsafe class NvmlReader(NvmlApi api)
{
    // Far above any real host (8 GPUs, 7 MIG devices each); only guards the loops against a broken library.
    const uint MaxDevices = 1024;

    public NvmlSnapshot Read()
    {
        var driver = ReadString(api.SystemGetDriverVersion, NvmlBuffers.SystemDriverVersion, "nvmlSystemGetDriverVersion");
        int cuda;
        Check(api.SystemGetCudaDriverVersion(&cuda), "nvmlSystemGetCudaDriverVersion");
        uint count;
        Check(api.DeviceGetCount(&count), "nvmlDeviceGetCount_v2");
        if (count > MaxDevices) throw new NvmlCallException(0, $"nvml error: implausible device count {count} from nvmlDeviceGetCount_v2");

        var gpus = new List<GpuInfo>((int)count);
        for (uint i = 0; i < count; i++) gpus.Add(ReadGpu((int)i));
        return new NvmlSnapshot { DriverVersion = driver, CudaDriverVersion = cuda, Gpus = gpus };
    }

    GpuInfo ReadGpu(int index)
    {
        var where = $"GPU {index}";
        nint device;
        Check(api.DeviceGetHandleByIndex((uint)index, &device), "nvmlDeviceGetHandleByIndex_v2", where);
        uint minor;
        Check(api.DeviceGetMinorNumber(device, &minor), "nvmlDeviceGetMinorNumber", where);
        NvmlPciInfo pci;
        Check(api.DeviceGetPciInfo(device, &pci), "nvmlDeviceGetPciInfo_v3", where);
        var busId = NvmlBusId.Normalize(CString(pci.BusId, 32)) ?? NvmlBusId.Format(pci.Domain, pci.Bus, pci.Device);
        var uuid = ReadDeviceString(device, api.DeviceGetUuid, NvmlBuffers.DeviceUuidV2, "nvmlDeviceGetUUID", where);

        // Descriptive facts: a device that does not support one still has an identity, so null, not failure.
        var name = ReadName(device, where);
        int brand;
        var brandName = Optional(api.DeviceGetBrand(device, &brand), "nvmlDeviceGetBrand", where) ? NvmlBrand.NameOf(brand) : null;
        int major, minorCc;
        var cc = Optional(api.DeviceGetCudaComputeCapability(device, &major, &minorCc), "nvmlDeviceGetCudaComputeCapability", where)
            ? $"{major}.{minorCc}" : null;

        var (migCapable, migEnabled, migs) = ReadMig(device, index, where);
        return new GpuInfo
        {
            Index = index, Minor = (int)minor, Uuid = uuid, BusId = busId, Name = name, Brand = brandName,
            ComputeCapability = cc, MemoryBytes = ReadMemory(device, where), MigEnabled = migEnabled, MigCapable = migCapable, MigDevices = migs,
            AddressingMode = ReadAddressingMode(device),
        };
    }

    (bool Capable, bool Enabled, IReadOnlyList<MigInfo> Devices) ReadMig(nint device, int parentIndex, string where)
    {
        if (!api.HasMig) return (false, false, []);
        uint current, pending;
        var rc = api.DeviceGetMigMode(device, &current, &pending);
        // Not MIG-capable is an answer, not an error (as libnvidia-container treats it).
        if (rc is NvmlReturn.NotSupported or NvmlReturn.FunctionNotFound) return (false, false, []);
        Check(rc, "nvmlDeviceGetMigMode", where);
        if (current != NvmlBuffers.MigEnable) return (true, false, []);

        uint max;
        Check(api.DeviceGetMaxMigDeviceCount(device, &max), "nvmlDeviceGetMaxMigDeviceCount", where);
        if (max > MaxDevices) throw new NvmlCallException(0, $"nvml error: implausible MIG device count {max} from nvmlDeviceGetMaxMigDeviceCount ({where})");
        var migs = new List<MigInfo>();
        for (uint j = 0; j < max; j++)
        {
            nint mig;
            rc = api.DeviceGetMigDeviceHandleByIndex(device, j, &mig);
            if (rc == NvmlReturn.NotFound) continue; // an empty slot; the index of later ones stays theirs
            var whereMig = $"MIG device {parentIndex}:{j}";
            Check(rc, "nvmlDeviceGetMigDeviceHandleByIndex", whereMig);
            uint gi, ci;
            Check(api.DeviceGetGpuInstanceId(mig, &gi), "nvmlDeviceGetGpuInstanceId", whereMig);
            Check(api.DeviceGetComputeInstanceId(mig, &ci), "nvmlDeviceGetComputeInstanceId", whereMig);
            var uuid = ReadDeviceString(mig, api.DeviceGetUuid, NvmlBuffers.DeviceUuidV2, "nvmlDeviceGetUUID", whereMig);
            var name = ReadName(mig, whereMig);
            migs.Add(new MigInfo
            {
                ParentIndex = parentIndex, Index = (int)j, Uuid = uuid, GpuInstanceId = (int)gi, ComputeInstanceId = (int)ci,
                Profile = ProfileFromName(name), MemoryBytes = ReadMemory(mig, whereMig),
            });
        }
        return (true, true, migs);
    }

    /// <summary>NVML names a MIG device "&lt;GPU name&gt; MIG &lt;profile&gt;", e.g. "NVIDIA A100-SXM4-40GB MIG 1g.5gb".</summary>
    internal static string? ProfileFromName(string? name)
    {
        if (name is null) return null;
        var at = name.LastIndexOf(" MIG ", StringComparison.Ordinal);
        if (at < 0) return null;
        var profile = name[(at + 5)..].Trim();
        return profile.Length == 0 ? null : profile;
    }

    ulong? ReadMemory(nint device, string where)
    {
        NvmlMemory memory;
        return Optional(api.DeviceGetMemoryInfo(device, &memory), "nvmlDeviceGetMemoryInfo", where) ? memory.Total : null;
    }

    string ReadString(delegate* unmanaged<byte*, uint, int> call, int size, string function)
    {
        var buffer = stackalloc byte[size];
        Check(call(buffer, (uint)size), function);
        return CString(buffer, size);
    }

    string ReadDeviceString(nint device, delegate* unmanaged<nint, byte*, uint, int> call, int size, string function, string where)
    {
        var buffer = stackalloc byte[size];
        Check(call(device, buffer, (uint)size), function, where);
        return CString(buffer, size);
    }

    static string CString(byte* buffer, int size)
    {
        var span = new ReadOnlySpan<byte>(buffer, size);
        var end = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    string? ReadName(nint device, string where)
    {
        var buffer = stackalloc byte[NvmlBuffers.DeviceNameV2];
        return Optional(api.DeviceGetName(device, buffer, NvmlBuffers.DeviceNameV2), "nvmlDeviceGetName", where)
            ? CString(buffer, NvmlBuffers.DeviceNameV2) : null;
    }

    // Only `cdi generate --feature-flag=enable-coherent-annotations` needs it, so a failure is kept, not thrown.
    int? ReadAddressingMode(nint device)
    {
        if (api.DeviceGetAddressingMode == null) return null;
        var mode = new NvmlAddressingMode { Version = NvmlAddressingMode.V1 };
        var rc = api.DeviceGetAddressingMode(device, &mode);
        if (rc == NvmlReturn.NotSupported) return null;
        return rc == NvmlReturn.Success ? (int)mode.Value : GpuInfo.AddressingModeUnreadable;
    }

    bool Optional(int rc, string function, string where)
    {
        if (rc == NvmlReturn.NotSupported) return false;
        Check(rc, function, where);
        return true;
    }

    void Check(int rc, string function, string? where = null)
    {
        if (rc == NvmlReturn.Success) return;
        var suffix = where is null ? "" : $" ({where})";
        throw new NvmlCallException(rc, $"nvml error: {api.Describe(rc)} calling {function}{suffix}");
    }
}

using System.Runtime.InteropServices;
using System.Text;
using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Simulation;

namespace Gantry.Tests.Simulation;

// The stand-in answers like NVML at the C ABI: return codes, buffer sizes, struct layouts, MIG handles.
// These call its exports directly, the way any NVML client would, not through Gantry's binding.
[Collection(NvmlStandIn.Collection)]
public sealed unsafe partial class NvmlStandInTests : IDisposable
{
    const int Success = 0, Uninitialized = 1, InvalidArgument = 2, NotSupported = 3, NotFound = 6, InsufficientSize = 7,
        ArgumentVersionMismatch = 25;

    readonly TempDirectory dir = new();
    nint lib;

    static NvmlSnapshot Facts() => new()
    {
        DriverVersion = "550.54.15", CudaDriverVersion = 12040,
        Gpus =
        [
            new GpuInfo
            {
                Index = 0, Minor = 4, Uuid = "GPU-mig-parent", BusId = "00000000:3B:00.0", Name = "NVIDIA A100-SXM4-40GB",
                Brand = "tesla", ComputeCapability = "8.0", MemoryBytes = 1000, MigEnabled = true,
                MigDevices =
                [
                    new MigInfo { ParentIndex = 0, Index = 0, Uuid = "MIG-zero", GpuInstanceId = 1, ComputeInstanceId = 0, Profile = "3g.20gb", MemoryBytes = 500 },
                    new MigInfo { ParentIndex = 0, Index = 1, Uuid = "MIG-one", GpuInstanceId = 2, ComputeInstanceId = 1, Profile = "1g.5gb", MemoryBytes = 100 },
                ],
            },
            new GpuInfo { Index = 1, Minor = 5, Uuid = "GPU-plain", BusId = "00000000:86:00.0", Name = "Tesla T4", MemoryBytes = 2000 },
        ],
    };

    void Load(bool withFacts = true)
    {
        var extras = new Dictionary<int, NvmlGpuExtras> { [0] = new() { PciDeviceId = 0x20B010DE, MemoryUsedBytes = 300 } };
        lib = NativeLibrary.Load(NvmlStandIn.Install(dir.Path, withFacts ? Facts() : null, extras));
    }

    nint F(string name) => NativeLibrary.GetExport(lib, name);
    int Init() => ((delegate* unmanaged<int>)F("nvmlInit_v2"))();
    int Shutdown() => ((delegate* unmanaged<int>)F("nvmlShutdown"))();
    int Count(uint* n) => ((delegate* unmanaged<uint*, int>)F("nvmlDeviceGetCount_v2"))(n);
    int Handle(uint i, nint* h) => ((delegate* unmanaged<uint, nint*, int>)F("nvmlDeviceGetHandleByIndex_v2"))(i, h);
    int Uuid(nint h, byte* buf, uint len) => ((delegate* unmanaged<nint, byte*, uint, int>)F("nvmlDeviceGetUUID"))(h, buf, len);
    int MigByIndex(nint h, uint i, nint* m) => ((delegate* unmanaged<nint, uint, nint*, int>)F("nvmlDeviceGetMigDeviceHandleByIndex"))(h, i, m);
    int DeviceUint(string fn, nint h, uint* v) => ((delegate* unmanaged<nint, uint*, int>)F(fn))(h, v);

    nint GpuHandle(uint index)
    {
        nint h;
        Assert.Equal(Success, Handle(index, &h));
        return h;
    }

    public void Dispose()
    {
        if (lib != 0)
        {
            while (Shutdown() == Success) { }
            NativeLibrary.Free(lib);
        }
        dir.Dispose();
    }

    [NvmlFact]
    public void Calls_before_init_and_after_the_last_shutdown_are_uninitialized()
    {
        Load();
        uint n;
        Assert.Equal(Uninitialized, Count(&n));
        Assert.Equal(Uninitialized, Shutdown());
        Assert.Equal(Success, Init());
        Assert.Equal(Success, Init());      // reference counted, like NVML
        Assert.Equal(Success, Shutdown());
        Assert.Equal(Success, Count(&n));
        Assert.Equal(2u, n);
        Assert.Equal(Success, Shutdown());
        Assert.Equal(Uninitialized, Count(&n));
    }

    [NvmlFact]
    public void Init_without_facts_is_driver_not_loaded_and_error_strings_say_so()
    {
        Load(withFacts: false);
        Assert.Equal(9, Init());
        var text = ((delegate* unmanaged<int, byte*>)F("nvmlErrorString"))(9);
        Assert.Equal("Driver Not Loaded", Marshal.PtrToStringUTF8((nint)text));
    }

    [NvmlFact]
    public void Short_buffers_bad_indices_and_foreign_handles_get_NVML_error_codes()
    {
        Load();
        Assert.Equal(Success, Init());
        var buf = stackalloc byte[96];
        var version = (delegate* unmanaged<byte*, uint, int>)F("nvmlSystemGetDriverVersion");
        Assert.Equal(InsufficientSize, version(buf, 9));   // "550.54.15" needs 10 with its NUL
        Assert.Equal(Success, version(buf, 10));
        Assert.Equal(InvalidArgument, version(null, 80));

        nint h;
        Assert.Equal(InvalidArgument, Handle(2, &h));
        Assert.Equal(InsufficientSize, Uuid(GpuHandle(0), buf, 5));
        Assert.Equal(InvalidArgument, Uuid((nint)buf, buf, 96));  // not a handle it gave out

        var nvml = (delegate* unmanaged<byte*, uint, int>)F("nvmlSystemGetNVMLVersion");
        Assert.Equal(Success, nvml(buf, 80));
        Assert.Equal("12.550.54.15", Marshal.PtrToStringUTF8((nint)buf));
        int cuda;
        Assert.Equal(Success, ((delegate* unmanaged<int*, int>)F("nvmlSystemGetCudaDriverVersion_v2"))(&cuda));
        Assert.Equal(12040, cuda);
    }

    [NvmlFact]
    public void PCI_info_fills_the_v3_layout_and_the_unversioned_call_only_the_shared_prefix()
    {
        Load();
        Assert.Equal(Success, Init());
        NvmlPciInfo pci;
        new Span<byte>(&pci, sizeof(NvmlPciInfo)).Fill(0xAA);
        Assert.Equal(Success, ((delegate* unmanaged<nint, NvmlPciInfo*, int>)F("nvmlDeviceGetPciInfo_v3"))(GpuHandle(0), &pci));
        Assert.Equal("00000000:3B:00.0", Marshal.PtrToStringUTF8((nint)pci.BusId));
        Assert.Equal("0000:3B:00.0", Marshal.PtrToStringUTF8((nint)pci.BusIdLegacy));
        Assert.Equal((0u, 0x3Bu, 0u, 0x20B010DEu), (pci.Domain, pci.Bus, pci.Device, pci.PciDeviceId));

        new Span<byte>(&pci, sizeof(NvmlPciInfo)).Fill(0xAA);
        Assert.Equal(Success, ((delegate* unmanaged<nint, NvmlPciInfo*, int>)F("nvmlDeviceGetPciInfo"))(GpuHandle(1), &pci));
        Assert.Equal(0x86u, pci.Bus);
        Assert.Equal(0xAA, pci.BusId[0]); // a v1 caller's struct ends before busId[32]
    }

    [NvmlFact]
    public void Memory_info_v1_and_v2_report_total_free_used()
    {
        Load();
        Assert.Equal(Success, Init());
        NvmlMemory m;
        Assert.Equal(Success, ((delegate* unmanaged<nint, NvmlMemory*, int>)F("nvmlDeviceGetMemoryInfo"))(GpuHandle(0), &m));
        Assert.Equal((1000UL, 700UL, 300UL), (m.Total, m.Free, m.Used));

        var v2 = stackalloc ulong[5];   // nvmlMemory_v2_t: version (padded to 8), total, reserved, free, used
        var getV2 = (delegate* unmanaged<nint, ulong*, int>)F("nvmlDeviceGetMemoryInfo_v2");
        Assert.Equal(ArgumentVersionMismatch, getV2(GpuHandle(0), v2));
        *(uint*)v2 = 40u | (2u << 24);
        Assert.Equal(Success, getV2(GpuHandle(0), v2));
        Assert.Equal((1000UL, 0UL, 700UL, 300UL), (v2[1], v2[2], v2[3], v2[4]));
    }

    [NvmlFact]
    public void MIG_handles_enumerate_until_not_found_and_lead_back_to_their_parent()
    {
        Load();
        Assert.Equal(Success, Init());
        var gpu = GpuHandle(0);
        uint max, v, cur, pend;
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetMaxMigDeviceCount", gpu, &max));
        Assert.Equal(7u, max);
        var migMode = (delegate* unmanaged<nint, uint*, uint*, int>)F("nvmlDeviceGetMigMode");
        Assert.Equal(Success, migMode(gpu, &cur, &pend));
        Assert.Equal((1u, 1u), (cur, pend));

        nint mig;
        Assert.Equal(Success, MigByIndex(gpu, 1, &mig));
        Assert.Equal(NotFound, MigByIndex(gpu, 2, &mig));
        Assert.Equal(InvalidArgument, MigByIndex(gpu, 7, &mig));
        Assert.Equal(Success, MigByIndex(gpu, 1, &mig));
        Assert.Equal(Success, DeviceUint("nvmlDeviceIsMigDeviceHandle", mig, &v));
        Assert.Equal(1u, v);
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetGpuInstanceId", mig, &v));
        Assert.Equal(2u, v);
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetComputeInstanceId", mig, &v));
        Assert.Equal(1u, v);
        Assert.Equal(NotSupported, DeviceUint("nvmlDeviceGetGpuInstanceId", gpu, &v));

        nint parent, byUuid;
        Assert.Equal(Success, ((delegate* unmanaged<nint, nint*, int>)F("nvmlDeviceGetDeviceHandleFromMigDeviceHandle"))(mig, &parent));
        Assert.Equal(gpu, parent);
        var getByUuid = (delegate* unmanaged<byte*, nint*, int>)F("nvmlDeviceGetHandleByUUID");
        fixed (byte* u = "MIG-one\0"u8) Assert.Equal(Success, getByUuid(u, &byUuid));
        Assert.Equal(mig, byUuid);
        fixed (byte* u = "GPU-nope\0"u8) Assert.Equal(NotFound, getByUuid(u, &byUuid));

        var buf = stackalloc byte[96];
        Assert.Equal(Success, ((delegate* unmanaged<nint, byte*, uint, int>)F("nvmlDeviceGetName"))(mig, buf, 96));
        Assert.Equal("NVIDIA A100-SXM4-40GB MIG 1g.5gb", Marshal.PtrToStringUTF8((nint)buf));
    }

    [NvmlFact]
    public void A_GPU_without_MIG_says_not_supported_and_has_no_MIG_slots()
    {
        Load();
        Assert.Equal(Success, Init());
        var gpu = GpuHandle(1);
        uint cur, pend, max, index;
        Assert.Equal(NotSupported, ((delegate* unmanaged<nint, uint*, uint*, int>)F("nvmlDeviceGetMigMode"))(gpu, &cur, &pend));
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetMaxMigDeviceCount", gpu, &max));
        Assert.Equal(0u, max);
        nint mig;
        Assert.Equal(NotSupported, MigByIndex(gpu, 0, &mig));
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetIndex", gpu, &index));
        Assert.Equal(1u, index);
        Assert.Equal(Success, DeviceUint("nvmlDeviceGetMinorNumber", gpu, &index));
        Assert.Equal(5u, index);
        int major, minor;
        Assert.Equal(NotSupported, ((delegate* unmanaged<nint, int*, int*, int>)F("nvmlDeviceGetCudaComputeCapability"))(gpu, &major, &minor));
    }

    [NvmlFact]
    public void GANTRY_NVML_FACTS_overrides_the_facts_beside_the_library()
    {
        using var elsewhere = new TempDirectory();
        var facts = Path.Combine(elsewhere.Path, "facts.txt");
        NvmlFacts.Write(facts, Facts());
        var lib = NvmlStandIn.Install(dir.Path, snapshot: null);
        Assert.Equal(0, SetEnv("GANTRY_NVML_FACTS", facts, 1));
        try
        {
            Assert.True(NvmlLibrary.TryQuery(lib, out var snapshot, out var error), error);
            Assert.Equal(2, snapshot.Gpus.Count);
        }
        finally
        {
            UnsetEnv("GANTRY_NVML_FACTS");
        }
    }

    // .NET keeps its own copy of the environment; the stand-in's getenv sees only libc's.
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "unsetenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnsetEnv(string name);
}

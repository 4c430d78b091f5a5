using Gantry.Discovery;
using Gantry.Discovery.Nvml;
using Gantry.Simulation;
using Gantry.Tests.Simulation;

namespace Gantry.Tests.Discovery;

[Collection(NvmlStandIn.Collection)]
public sealed class NvmlTests
{
    const ulong GiB = 1UL << 30;

    static GpuInfo Gpu(int index, int minor, string busId, string? brand = "tesla") => new()
    {
        Index = index, Minor = minor, Uuid = $"GPU-{index:x8}-1111-2222-3333-44445555{index:x4}", BusId = busId,
        Name = "NVIDIA A100-SXM4-40GB", Brand = brand, ComputeCapability = "8.0", MemoryBytes = 40 * GiB,
    };

    static NvmlSnapshot Snapshot(params GpuInfo[] gpus) =>
        new() { DriverVersion = "550.54.15", CudaDriverVersion = 12040, Gpus = gpus };

    static NvmlSnapshot Query(NvmlSnapshot facts, IReadOnlyDictionary<int, NvmlGpuExtras>? extras = null)
    {
        using var dir = new TempDirectory();
        var lib = NvmlStandIn.Install(dir.Path, facts, extras);
        Assert.True(NvmlLibrary.TryQuery(lib, out var snapshot, out var error), error);
        Assert.Null(error);
        return snapshot;
    }

    static void AssertGpu(GpuInfo expected, GpuInfo actual)
    {
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Minor, actual.Minor);
        Assert.Equal(expected.Uuid, actual.Uuid);
        Assert.Equal(NvmlBusId.Normalize(expected.BusId), actual.BusId);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Brand ?? "unknown", actual.Brand);
        Assert.Equal(expected.ComputeCapability, actual.ComputeCapability);
        Assert.Equal(expected.MemoryBytes, actual.MemoryBytes);
        Assert.Equal(expected.MigEnabled, actual.MigEnabled);
        Assert.Equal(expected.MigDevices, actual.MigDevices); // MigInfo is a flat record: value equality
    }

    [NvmlFact]
    public void One_GPU_is_read_field_by_field()
    {
        var gpu = Gpu(0, 0, "00000000:01:00.0");
        var snapshot = Query(Snapshot(gpu));

        Assert.Equal("550.54.15", snapshot.DriverVersion);
        Assert.Equal(12040, snapshot.CudaDriverVersion);
        Assert.Equal("12.4", snapshot.CudaVersionText);
        AssertGpu(gpu, Assert.Single(snapshot.Gpus));
    }

    [NvmlFact]
    public void Eight_GPUs_keep_NVML_order_minors_and_normalised_bus_ids()
    {
        string[] brands = ["tesla", "quadro", "geforce", "nvs", "grid", "titan", "nvidiartx", "geforcertx"];
        var gpus = Enumerable.Range(0, 8)
            .Select(i => Gpu(i, 7 - i, $"0000000{i % 2}:{0x3B + i:X2}:00.0", brands[i]) with
            {
                Name = $"NVIDIA H100 80GB HBM3 #{i}", ComputeCapability = i < 4 ? "9.0" : "8.6", MemoryBytes = (ulong)(i + 1) * 8 * GiB,
            })
            .ToArray();
        var snapshot = Query(Snapshot(gpus));

        Assert.Equal(8, snapshot.Gpus.Count);
        for (var i = 0; i < 8; i++) AssertGpu(gpus[i], snapshot.Gpus[i]);
        Assert.Equal("00000001:3c:00.0", snapshot.Gpus[1].BusId); // lower-case, 8-digit domain
        Assert.Equal(7, snapshot.Gpus[0].Minor);
    }

    [NvmlFact]
    public void MIG_devices_come_with_instance_ids_uuids_profiles_and_memory()
    {
        MigInfo Mig(int j, int gi, int ci, string profile, ulong mem) => new()
        {
            ParentIndex = 0, Index = j, Uuid = $"MIG-aaaaaaaa-bbbb-cccc-dddd-00000000000{j}", GpuInstanceId = gi,
            ComputeInstanceId = ci, Profile = profile, MemoryBytes = mem,
        };
        var migGpu = Gpu(0, 0, "00000000:07:00.0") with
        {
            MigEnabled = true,
            MigDevices = [Mig(0, 1, 0, "3g.20gb", 20 * GiB), Mig(1, 2, 0, "2g.10gb", 10 * GiB), Mig(2, 7, 0, "1g.5gb", 5 * GiB)],
        };
        var capableButOff = Gpu(1, 1, "00000000:0F:00.0");
        var notCapable = Gpu(2, 2, "00000000:87:00.0") with { Name = "Tesla T4", ComputeCapability = "7.5" };
        var extras = new Dictionary<int, NvmlGpuExtras> { [1] = new() { MigCapable = true } };

        var snapshot = Query(Snapshot(migGpu, capableButOff, notCapable), extras);

        AssertGpu(migGpu, snapshot.Gpus[0]);
        Assert.Equal([1, 2, 7], snapshot.Gpus[0].MigDevices.Select(m => m.GpuInstanceId));
        AssertGpu(capableButOff, snapshot.Gpus[1]);
        AssertGpu(notCapable, snapshot.Gpus[2]);
    }

    [NvmlFact]
    public void Addressing_modes_are_read_and_an_unreported_one_is_null()
    {
        var gpus = new[]
        {
            Gpu(0, 0, "00000000:01:00.0") with { AddressingMode = GpuInfo.AddressingModeAts },
            Gpu(1, 1, "00000000:02:00.0") with { AddressingMode = 1 },
            Gpu(2, 2, "00000000:03:00.0"),
        };
        Assert.Equal([GpuInfo.AddressingModeAts, 1, null], Query(Snapshot(gpus)).Gpus.Select(g => g.AddressingMode));
    }

    [NvmlFact]
    public void Facts_the_device_does_not_report_are_null_not_errors()
    {
        var bare = new GpuInfo { Index = 0, Minor = 3, Uuid = "GPU-bare", BusId = "0000:02:00.0" };
        var gpu = Assert.Single(Query(Snapshot(bare)).Gpus);

        Assert.Equal("00000000:02:00.0", gpu.BusId);
        Assert.Null(gpu.Name);
        Assert.Null(gpu.ComputeCapability);
        Assert.Null(gpu.MemoryBytes);
        Assert.Equal("unknown", gpu.Brand);
    }

    [NvmlFact]
    public void A_driver_root_without_facts_reports_driver_not_loaded()
    {
        using var dir = new TempDirectory();
        var lib = NvmlStandIn.Install(dir.Path, snapshot: null);

        Assert.False(NvmlLibrary.TryQuery(lib, out var snapshot, out var error));
        Assert.Null(snapshot);
        Assert.StartsWith("nvml error: Driver Not Loaded calling nvmlInit_v2", error);
    }

    [NvmlFact]
    public void Malformed_facts_fail_init_with_an_nvml_error()
    {
        using var dir = new TempDirectory();
        var lib = NvmlStandIn.Install(dir.Path, snapshot: null);
        File.WriteAllText(Path.Combine(dir.Path, NvmlFacts.FileName), "version 1\ndriver 1.2.3\ngpu\nminor seven\n");

        Assert.False(NvmlLibrary.TryQuery(lib, out _, out var error));
        Assert.StartsWith("nvml error: Unknown Error calling nvmlInit_v2", error);
    }

    [NvmlFact]
    public void A_library_reached_through_a_symlink_finds_facts_beside_its_target()
    {
        using var real = new TempDirectory();
        using var links = new TempDirectory();
        var lib = NvmlStandIn.Install(real.Path, Snapshot(Gpu(0, 0, "00000000:01:00.0")));
        var link = Path.Combine(links.Path, "libnvidia-ml.so.1");
        File.CreateSymbolicLink(link, lib);

        Assert.True(NvmlLibrary.TryQuery(link, out var snapshot, out var error), error);
        Assert.Single(snapshot.Gpus);
    }

    [Fact]
    public void A_library_path_that_does_not_exist_is_an_error()
    {
        Assert.False(NvmlLibrary.TryQuery("/nonexistent/libnvidia-ml.so.1", out var snapshot, out var error));
        Assert.Null(snapshot);
        Assert.Equal("nvml error: library /nonexistent/libnvidia-ml.so.1 does not exist", error);
    }

    [Fact]
    public void A_file_that_is_not_a_shared_library_cannot_be_loaded()
    {
        using var dir = new TempDirectory();
        var lib = Path.Combine(dir.Path, "libnvidia-ml.so.1");
        File.WriteAllText(lib, "not an ELF file");

        Assert.False(NvmlLibrary.TryQuery(lib, out _, out var error));
        Assert.StartsWith($"nvml error: cannot load {lib}: ", error);
    }

    [Fact]
    public void A_library_without_NVML_names_the_missing_symbol()
    {
        var libz = new[] { "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1",
            "/usr/lib/aarch64-linux-gnu/libz.so.1" }.FirstOrDefault(File.Exists);
        if (libz is null) return; // nothing to load on this host; the other errors are covered above

        Assert.False(NvmlLibrary.TryQuery(libz, out _, out var error));
        Assert.Equal($"nvml error: symbol nvmlInit_v2 not found in {libz} (not an NVML library, or too old)", error);
    }
}

using System.Diagnostics.CodeAnalysis;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Discovery.Inventory;
using Gantry.Host;
using Gantry.Simulation;
using Gantry.Tests.Support;

namespace Gantry.Tests.Discovery;

// Issue 17, part 1: NVML's answers kept between container starts, used only while the host's cheap signals are
// unchanged. A stale record would put the wrong GPU in a container, so every invalidation signal is tried here,
// with a loader that counts how often NVML would really be asked.
public sealed class InventoryCacheTests : IDisposable
{
    readonly TempDir _dir = new();
    int _loads;

    string Host => _dir["host"];
    string CacheDir => _dir["run/inventory"];

    public InventoryCacheTests() => Simulate(new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false });

    public void Dispose() => _dir.Dispose();

    void Simulate(SimulationOptions o) => SimulatedHostWriter.Write(Host, o, Log.Silent, []);
    void Change(SimulationOptions o) => SimulatedHostWriter.Update(Host, o, [], Log.Silent);

    // The "NVML" of these tests: what the simulated host's GPUs are, read from procfs, counted.
    bool Load(HostRoots roots, string library, [NotNullWhen(true)] out NvmlSnapshot? snapshot, [NotNullWhen(false)] out string? error)
    {
        _loads++;
        var procfs = ProcDriver.Gpus(roots);
        snapshot = new NvmlSnapshot
        {
            DriverVersion = ProcDriver.DriverVersion(roots) ?? "?", CudaDriverVersion = 12040,
            Gpus = procfs.Select(g => g with { MigEnabled = Directory.Exists(roots.InProc($"driver/nvidia/capabilities/gpu{g.Minor}")) }).ToList(),
        };
        error = null;
        return true;
    }

    NvmlSnapshotCache Cache(string? extra = null) => new(CacheDir, extra, 0, Log.Silent, Load);

    string Library => Path.Combine(Host, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");

    NvmlSnapshot Ask(NvmlSnapshotCache? cache = null)
    {
        Assert.True((cache ?? Cache()).Query(new HostRoots(Host), Library, out var s, out var e), e);
        return s;
    }

    string Record => Path.Combine(CacheDir, NvmlSnapshotCache.Key(new HostRoots(Host)));

    [Fact]
    public void An_unchanged_host_is_answered_from_the_record_with_the_same_facts()
    {
        var first = Ask();
        var second = Ask();
        Assert.Equal(1, _loads);
        Assert.Equal(first.DriverVersion, second.DriverVersion);
        Assert.Equal(first.Gpus.Select(g => (g.Uuid, g.Minor, g.BusId)), second.Gpus.Select(g => (g.Uuid, g.Minor, g.BusId)));
        Assert.True(FileStamp.TryLstat(Record, out var s));
        Assert.Equal(0b110_000_000, s.Mode & 0xFFF);
    }

    [Fact]
    public void A_driver_upgrade_asks_nvml_again()
    {
        Ask();
        Change(new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false, DriverVersion = "560.35.03" });
        Assert.Equal("560.35.03", Ask().DriverVersion);
        Assert.Equal(2, _loads);
    }

    [Fact]
    public void A_gpu_added_or_removed_asks_nvml_again()
    {
        Ask();
        Change(new SimulationOptions { GpuCount = 3, WithNvml = false, RealDeviceNodes = false });
        Assert.Equal(3, Ask().Gpus.Count);
        Change(new SimulationOptions { GpuCount = 1, WithNvml = false, RealDeviceNodes = false });
        Assert.Single(Ask().Gpus);
        Assert.Equal(3, _loads);
    }

    [Fact]
    public void A_mig_reconfiguration_asks_nvml_again()
    {
        Ask();
        Change(new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false, Mig = new Dictionary<int, int> { [0] = 2 } });
        Assert.True(Ask().Gpus[0].MigEnabled);
        Change(new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false, Mig = new Dictionary<int, int> { [0] = 3 } });
        Ask();
        Assert.Equal(3, _loads);
    }

    [Fact]
    public void A_gpu_swapped_for_another_in_the_same_slot_asks_nvml_again()
    {
        Ask();
        var info = Directory.EnumerateFiles(Path.Combine(Host, "proc/driver/nvidia/gpus"), "information", SearchOption.AllDirectories).First();
        File.WriteAllText(info, File.ReadAllText(info).Replace("GPU UUID: \t GPU-", "GPU UUID: \t GPU-f"));
        Ask();
        Assert.Equal(2, _loads);
    }

    [Fact]
    public void A_device_node_recreated_or_an_ld_cache_rewritten_asks_nvml_again()
    {
        Ask();
        var node = Path.Combine(Host, "dev/nvidia1");
        File.Delete(node);
        File.WriteAllText(node, "");
        Ask();
        File.WriteAllBytes(Path.Combine(Host, "etc/ld.so.cache"), File.ReadAllBytes(Path.Combine(Host, "etc/ld.so.cache")).Append((byte)0).ToArray());
        Ask();
        Assert.Equal(3, _loads);
    }

    [Fact]
    public void A_changed_config_file_asks_nvml_again()
    {
        Ask(Cache("config.toml 1:2:3:100:1700000000.000000000"));
        Ask(Cache("config.toml 1:2:3:100:1700000000.000000000"));
        Ask(Cache("config.toml 1:2:3:101:1700000005.000000000"));
        Assert.Equal(2, _loads);
    }

    [Fact]
    public void A_truncated_record_is_a_miss_and_is_replaced()
    {
        Ask();
        var bytes = File.ReadAllBytes(Record);
        File.WriteAllBytes(Record, bytes[..(bytes.Length / 2)]);
        Ask();
        Ask();
        Assert.Equal(2, _loads);
    }

    [Fact]
    public void A_record_owned_by_another_user_or_readable_by_others_is_not_trusted()
    {
        Ask();
        File.SetUnixFileMode(Record, (UnixFileMode)0b110_100_100);
        Ask();
        Assert.Equal(2, _loads);
        if (Interop.GetEuid() != 0) return; // chown needs root; the mode case above already ran
        Assert.Equal(0, Chown(Record, 1000));
        Ask();
        Assert.Equal(3, _loads);
    }

    [Fact]
    public void A_record_forged_with_other_facts_under_the_right_signals_is_used_only_if_root_wrote_it()
    {
        // What a forger would need: write access to the directory. It must be root's alone, or nothing is read.
        Ask();
        File.SetUnixFileMode(CacheDir, (UnixFileMode)0b111_111_111);
        Ask();
        Assert.Equal(2, _loads);
    }

    [Fact]
    public void A_record_of_another_host_root_is_a_miss()
    {
        Ask();
        var other = _dir["other"];
        SimulatedHostWriter.Write(other, new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false }, Log.Silent, []);
        File.Copy(Record, Path.Combine(CacheDir, NvmlSnapshotCache.Key(new HostRoots(other))));
        var lib = Path.Combine(other, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
        Assert.True(Cache().Query(new HostRoots(other), lib, out _, out _));
        Assert.Equal(2, _loads);
    }

    // MIG mode switched with no instance on either side changes no signal: a record naming such a GPU is good
    // only for a short while (a burst of starts), then NVML is asked again.
    [Fact]
    public void A_mig_capable_gpu_without_mig_devices_is_asked_again_after_the_max_age()
    {
        var now = DateTime.UtcNow;
        bool Capable(HostRoots roots, string library, [NotNullWhen(true)] out NvmlSnapshot? snapshot, [NotNullWhen(false)] out string? error)
        {
            var ok = Load(roots, library, out snapshot, out error);
            snapshot = snapshot! with { Gpus = snapshot.Gpus.Select(g => g with { MigCapable = g.Index == 0 }).ToList() };
            return ok;
        }
        var cache = new NvmlSnapshotCache(CacheDir, null, 0, Log.Silent, Capable, migMaxAge: TimeSpan.FromSeconds(30), now: () => now);
        Assert.True(Ask(cache).Gpus[0].MigCapable);
        now = DateTime.UtcNow.AddSeconds(10);
        Ask(cache);
        Assert.Equal(1, _loads);
        now = DateTime.UtcNow.AddSeconds(31);
        Ask(cache);
        Assert.Equal(2, _loads);
        // A record stamped in the future (clock stepped back) is not trusted to be young.
        now = DateTime.UtcNow.AddSeconds(-60);
        Ask(cache);
        Assert.Equal(3, _loads);
    }

    [Fact]
    public void A_host_without_mig_capable_gpus_keeps_its_record_however_old()
    {
        var now = DateTime.UtcNow;
        var cache = new NvmlSnapshotCache(CacheDir, null, 0, Log.Silent, Load, migMaxAge: TimeSpan.FromSeconds(30), now: () => now);
        Ask(cache);
        now = now.AddDays(3);
        Ask(cache);
        Assert.Equal(1, _loads);
    }

    [Fact]
    public void The_codec_keeps_every_field_and_refuses_other_signals()
    {
        var snapshot = new NvmlSnapshot
        {
            DriverVersion = "550.54.15", CudaDriverVersion = 12040, Gpus =
            [
                new GpuInfo
                {
                    Index = 0, Minor = 3, Uuid = "GPU-a", BusId = "00000000:07:00.0", Name = "A100", Brand = "tesla", ComputeCapability = "8.0",
                    MemoryBytes = 42949672960, MigEnabled = true, MigCapable = true, MigDevices =
                    [
                        new MigInfo { ParentIndex = 0, Index = 0, Uuid = "MIG-x", GpuInstanceId = 1, ComputeInstanceId = 0, Profile = "1g.5gb", MemoryBytes = 5 << 30 },
                    ],
                },
            ],
        };
        var bytes = SnapshotCodec.Encode("s", snapshot);
        var back = SnapshotCodec.Decode(bytes, "s")!;
        Assert.Equal(snapshot.Gpus[0] with { MigDevices = [] }, back.Gpus[0] with { MigDevices = [] });
        Assert.Equal(snapshot.Gpus[0].MigDevices, back.Gpus[0].MigDevices);
        Assert.Null(SnapshotCodec.Decode(bytes, "t"));
        Assert.Null(SnapshotCodec.Decode("{\"version\":1,\"signals\":\"s\",\"gpus\":[{}]}"u8, "s"));
        Assert.Null(SnapshotCodec.Decode("[1,2"u8, "s"));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown")]
    static extern int Chown(string path, int uid, int gid = -1);
}

public sealed class InventoryCachePruneTests : IDisposable
{
    readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    static bool Empty(HostRoots roots, string library, [NotNullWhen(true)] out NvmlSnapshot? snapshot, [NotNullWhen(false)] out string? error)
    {
        snapshot = new NvmlSnapshot { DriverVersion = "1", CudaDriverVersion = 1, Gpus = [] };
        error = null;
        return true;
    }

    [Fact]
    public void Records_of_many_host_roots_are_pruned_to_the_newest()
    {
        var cache = _dir["inventory"];
        Directory.CreateDirectory(cache);
        for (var i = 0; i < NvmlSnapshotCache.MaxRecords + 5; i++)
        {
            var f = Path.Combine(cache, $"nvml-{i:x16}.json");
            File.WriteAllText(f, "{}");
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddMinutes(-100 + i));
        }
        var host = _dir["host"];
        SimulatedHostWriter.Write(host, new SimulationOptions { GpuCount = 1, WithNvml = false, RealDeviceNodes = false }, Log.Silent, []);
        var c = new NvmlSnapshotCache(cache, null, Interop.GetEuid(), Log.Silent, Empty);
        Assert.True(c.Query(new HostRoots(host), Path.Combine(host, "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"), out _, out _));
        var left = Directory.GetFiles(cache, "nvml-*.json");
        Assert.Equal(NvmlSnapshotCache.MaxRecords, left.Length);
        Assert.Contains(Path.Combine(cache, NvmlSnapshotCache.Key(new HostRoots(host))), left);
        Assert.DoesNotContain(Path.Combine(cache, $"nvml-{0:x16}.json"), left);
    }
}

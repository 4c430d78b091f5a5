using System.Text;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

// The mount points the shim makes before runc (Runtime/MountPointSeeder): one inode for all of them, resolved
// inside the root, and taken back when the create fails.
public sealed class MountPointSeederTests : IDisposable
{
    readonly TempDir _t = new();
    readonly RuntimeLog _log = new(LogLevel.Error, null, null, false);
    string Root => _t["rootfs"];

    public MountPointSeederTests() => Directory.CreateDirectory(_t["rootfs/etc"]);
    public void Dispose() { _log.Dispose(); _t.Dispose(); }

    MountPointSeeder Seeder(params string[] destinations) => new(LinuxSyscalls.Instance, Root, destinations);

    static FileStatus Stat(string path) => FileStatus.TryLstat(path, out var st) ? st : throw new FileNotFoundException(path);

    [Fact]
    public void Every_missing_mount_point_is_a_link_of_one_empty_file()
    {
        var seeder = Seeder("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "/usr/bin/nvidia-smi", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15");
        var made = seeder.Seed(_log);

        Assert.Equal(3, made);
        var files = new[] { "usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "usr/bin/nvidia-smi", "usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15" };
        var first = Stat(_t["rootfs/" + files[0]]);
        Assert.True(first.IsRegular);
        Assert.Equal(0b111_101_101, first.Permissions);
        Assert.Equal(0UL, first.Size);
        Assert.All(files, f => Assert.True(Stat(_t["rootfs/" + f]).SameFileAs(first), f));
        Assert.Equal(["/usr", "/usr/lib", "/usr/lib/x86_64-linux-gnu"], seeder.Made.Where(m => m.IsDirectory).Take(3).Select(m => m.Path));
        Assert.Contains(("/usr/bin", true), seeder.Made);
    }

    [Fact]
    public void What_the_image_has_is_left_to_the_runtime()
    {
        Directory.CreateDirectory(_t["rootfs/usr/bin"]);
        File.WriteAllText(_t["rootfs/usr/bin/nvidia-smi"], "the image's own\n");
        File.CreateSymbolicLink(_t["rootfs/usr/bin/nvidia-debugdump"], "/nowhere");

        var seeder = Seeder("/usr/bin/nvidia-smi", "/usr/bin/nvidia-debugdump");
        Assert.Equal(0, seeder.Seed(_log));
        Assert.Empty(seeder.Made);
        Assert.Equal("the image's own\n", File.ReadAllText(_t["rootfs/usr/bin/nvidia-smi"]));
        Assert.False(File.Exists(_t["rootfs/nowhere"]));
    }

    [Fact]
    public void Symlinks_in_the_image_are_followed_inside_the_root_only()
    {
        var outside = _t["outside"];
        Directory.CreateDirectory(outside);
        File.CreateSymbolicLink(_t["rootfs/usr"], outside); // absolute: means <root>/<outside> from inside
        File.CreateSymbolicLink(_t["rootfs/lib"], "../../../../../../.."); // climbs no higher than the root

        var seeder = Seeder("/usr/bin/nvidia-smi", "/lib/firmware/gsp.bin");
        Assert.Equal(2, seeder.Seed(_log));

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.True(File.Exists(_t["rootfs" + outside + "/bin/nvidia-smi"]));
        Assert.True(File.Exists(_t["rootfs/firmware/gsp.bin"]));
        Assert.False(File.Exists(_t["firmware/gsp.bin"]));
    }

    [Fact]
    public void Undo_removes_what_was_made_and_nothing_else()
    {
        Directory.CreateDirectory(_t["rootfs/usr/lib"]);
        var seeder = Seeder("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "/usr/bin/nvidia-smi", "/usr/bin/nvidia-debugdump", "/run/nvidia-persistenced/socket");
        seeder.Seed(_log);
        File.WriteAllText(_t["rootfs/usr/lib/x86_64-linux-gnu/libcuda.so.1"], "added later\n");
        File.Delete(_t["rootfs/usr/bin/nvidia-debugdump"]);
        File.WriteAllText(_t["rootfs/usr/bin/nvidia-debugdump"], "replaced\n");

        seeder.Undo(_log);

        Assert.False(File.Exists(_t["rootfs/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"]));
        Assert.True(File.Exists(_t["rootfs/usr/lib/x86_64-linux-gnu/libcuda.so.1"]), "a directory that is not empty stays");
        Assert.Equal("replaced\n", File.ReadAllText(_t["rootfs/usr/bin/nvidia-debugdump"]));
        Assert.False(File.Exists(_t["rootfs/usr/bin/nvidia-smi"]));
        Assert.False(Directory.Exists(_t["rootfs/run"]));
        Assert.True(Directory.Exists(_t["rootfs/usr/lib"]), "what the image had stays");
        Assert.Empty(seeder.Made);
    }

    [Fact]
    public void A_path_that_cannot_be_made_stops_the_seeding_without_an_error()
    {
        File.WriteAllText(_t["rootfs/usr"], "a file where a directory would go\n");
        var seeder = Seeder("/usr/bin/nvidia-smi");
        Assert.Equal(0, seeder.Seed(_log));
        Assert.Empty(seeder.Made);
    }

    // runc starts beside the seeding and makes a mount point itself when it gets there first.
    [Fact]
    public void A_mount_point_the_runtime_made_first_is_skipped()
    {
        var racing = new RuntimeFirst(_t["rootfs/usr/bin/nvidia-debugdump"]);
        var seeder = new MountPointSeeder(racing, Root, ["/usr/bin/nvidia-smi", "/usr/bin/nvidia-debugdump", "/usr/bin/nvidia-persistenced"]);

        Assert.Equal(2, seeder.Seed(_log));

        Assert.True(racing.Raced);
        Assert.DoesNotContain(("/usr/bin/nvidia-debugdump", false), seeder.Made);
        Assert.True(Stat(_t["rootfs/usr/bin/nvidia-smi"]).SameFileAs(Stat(_t["rootfs/usr/bin/nvidia-persistenced"])));
        Assert.False(Stat(_t["rootfs/usr/bin/nvidia-debugdump"]).SameFileAs(Stat(_t["rootfs/usr/bin/nvidia-smi"])));
    }

    sealed class RuntimeFirst(string hostPath) : Gantry.Tests.Host.ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public bool Raced;
        public override int LinkAt(int oldDirfd, string oldPath, int newDirfd, string newName, int flags)
        {
            if (newName == Path.GetFileName(hostPath)) { File.WriteAllText(hostPath, ""); Raced = true; }
            return base.LinkAt(oldDirfd, oldPath, newDirfd, newName, flags);
        }
    }

    [Fact]
    public void Plan_takes_the_added_binds_of_files_only()
    {
        var lib = _t["host-libcuda.so"];
        File.WriteAllText(lib, "");
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes($$"""
            {"ociVersion":"1.0.2","root":{"path":"rootfs"},"mounts":[
              {"destination":"/etc/hosts","type":"bind","source":"{{lib}}","options":["rbind"]}]}
            """), _t["config.json"], false);
        var before = new HashSet<JsonNode>(spec.Root["mounts"]!.AsArray().OfType<JsonObject>(), ReferenceEqualityComparer.Instance);
        var mounts = spec.Root["mounts"]!.AsArray();
        mounts.Add(new JsonObject { ["destination"] = "/usr/lib/libcuda.so", ["type"] = "bind", ["source"] = lib, ["options"] = new JsonArray("ro", "bind") });
        mounts.Add(new JsonObject { ["destination"] = "/opt/dir", ["type"] = "bind", ["source"] = _t.Path, ["options"] = new JsonArray("rbind") });
        mounts.Add(new JsonObject { ["destination"] = "/opt/missing", ["type"] = "bind", ["source"] = _t["missing"] });
        mounts.Add(new JsonObject { ["destination"] = "/dev/shm", ["type"] = "tmpfs", ["source"] = "shm" });
        mounts.Add(new JsonObject { ["destination"] = "/usr/bin/tool", ["source"] = lib, ["options"] = new JsonArray("rbind") });

        var plan = MountPointSeeder.Plan(spec, _t.Path, before);

        Assert.NotNull(plan);
        Assert.Equal(["/usr/lib/libcuda.so", "/usr/bin/tool"], plan.Destinations);

        spec.Root["linux"] = JsonNode.Parse("""{"namespaces":[{"type":"mount"},{"type":"user"}]}""");
        Assert.Null(MountPointSeeder.Plan(spec, _t.Path, before)); // runc makes them as the container's root
    }
}

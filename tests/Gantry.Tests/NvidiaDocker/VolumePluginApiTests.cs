using System.Text;
using Gantry.Common;
using Gantry.Elf;
using Gantry.NvidiaDocker;
using Gantry.Tests.Support;

namespace Gantry.Tests.NvidiaDocker;

public sealed class VolumePluginApiTests : IDisposable
{
    const string Accept = "application/vnd.docker.plugins.v1.2+json";
    readonly TempDir _dir = new();
    readonly VolumeStore _store;
    readonly VolumePluginApi _api;

    public VolumePluginApiTests()
    {
        var lib = _dir["driver/libcuda.so.550.54.15"];
        Directory.CreateDirectory(_dir["driver"]);
        File.WriteAllBytes(lib, ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1"));
        File.WriteAllText(_dir["driver/nvidia-smi"], "#!/bin/sh\n");
        var files = new VolumeFiles([_dir["driver/nvidia-smi"]], [], [lib]);
        _store = new VolumeStore(_dir["volumes"], () => files, new VolumeBuilder(LinuxFileCloner.Instance, Log.Silent), Log.Silent);
        _api = new VolumePluginApi(_store, "550.54.15", Log.Silent);
    }

    public void Dispose() => _dir.Dispose();

    (int Status, string? Type, string Body) Post(string path, string? body = null, string? accept = Accept, string method = "POST")
    {
        var r = _api.Handle(method, path, accept, Encoding.UTF8.GetBytes(body ?? ""));
        return (r.Status, r.ContentType, Encoding.UTF8.GetString(r.Body));
    }

    static string Name(string name) => $"{{\"Name\":\"{name}\"}}";

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("application/vnd.docker.plugins.v1+json")]
    public void Requests_without_plugin_API_1_1_or_1_2_get_406(string? accept)
    {
        var r = Post("/Plugin.Activate", accept: accept);
        Assert.Equal(406, r.Status);
        Assert.Equal("", r.Body);
        Assert.Equal(200, Post("/Plugin.Activate", accept: "application/vnd.docker.plugins.v1.1+json").Status);
    }

    [Fact]
    public void Activate_and_capabilities_announce_a_local_volume_driver()
    {
        Assert.Equal((200, VolumePluginApi.ContentType, "{\"Implements\":[\"VolumeDriver\"]}\n"), Post("/Plugin.Activate"));
        Assert.Equal((200, VolumePluginApi.ContentType, "{\"Capabilities\":{\"Scope\":\"local\"}}\n"), Post("/VolumeDriver.Capabilities"));
    }

    [Fact]
    public void Create_mount_get_list_remove_walk_the_volume_life()
    {
        var mountpoint = Path.Combine(_dir["volumes"], "nvidia_driver", "550.54.15");
        Assert.Equal("{\"Volumes\":null,\"Err\":null}\n", Post("/VolumeDriver.List").Body);
        Assert.Equal("{\"Mountpoint\":null,\"Err\":\"no such volume: nvidia_driver_550.54.15\"}\n", Post("/VolumeDriver.Mount", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal("{\"Err\":null}\n", Post("/VolumeDriver.Create", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal("{\"Err\":null}\n", Post("/VolumeDriver.Create", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal($"{{\"Mountpoint\":\"{mountpoint}\",\"Err\":null}}\n", Post("/VolumeDriver.Mount", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal($"{{\"Mountpoint\":\"{mountpoint}\",\"Err\":null}}\n", Post("/VolumeDriver.Path", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal($"{{\"Volume\":{{\"Name\":\"nvidia_driver_550.54.15\",\"Mountpoint\":\"{mountpoint}\"}},\"Err\":null}}\n", Post("/VolumeDriver.Get", Name("nvidia_driver_550.54.15")).Body);
        Assert.Equal($"{{\"Volumes\":[{{\"Name\":\"nvidia_driver_550.54.15\",\"Mountpoint\":\"{mountpoint}\"}}],\"Err\":null}}\n", Post("/VolumeDriver.List").Body);
        Assert.Equal("{\"Err\":null}\n", Post("/VolumeDriver.Unmount", Name("nvidia_driver_550.54.15")).Body);
        Assert.True(File.Exists(Path.Combine(mountpoint, "lib64/libcuda.so.1")));
        Assert.True(Directory.Exists(Path.Combine(mountpoint, "lib")));
        Assert.Equal("{\"Err\":null}\n", Post("/VolumeDriver.Remove", Name("nvidia_driver_550.54.15")).Body);
        Assert.False(Directory.Exists(mountpoint));
        Assert.Equal("{\"Volume\":null,\"Err\":\"no such volume: nvidia_driver_550.54.15\"}\n", Post("/VolumeDriver.Get", Name("nvidia_driver_550.54.15")).Body);
    }

    // A plugin SIGKILLed while building leaves its hidden staging directory; the next one removes it at start and
    // keeps the finished volumes (the e2e kill test, NvidiaDockerPluginKillTests, does it through Docker).
    [Fact]
    public void Staging_left_by_a_killed_plugin_is_removed_and_finished_volumes_are_kept()
    {
        Assert.Equal(0, _store.RemoveAbandonedStaging()); // no volume directory yet
        Assert.Equal("{\"Err\":null}\n", Post("/VolumeDriver.Create", Name("nvidia_driver_550.54.15")).Body);
        var half = Path.Combine(_store.VolumeDir, ".550.54.15.k1ll3d");
        Directory.CreateDirectory(Path.Combine(half, "lib64"));
        File.WriteAllText(Path.Combine(half, "lib64", "libcuda.so.550.54.15"), "half");
        Assert.Equal(["550.54.15"], _store.Versions());
        Assert.Equal(1, _store.RemoveAbandonedStaging());
        Assert.False(Directory.Exists(half));
        Assert.True(File.Exists(Path.Combine(_store.PathOf("550.54.15"), "lib64/libcuda.so.1")));
    }

    [Theory]
    [InlineData("/VolumeDriver.Create", "nvidia_driver_1.0", "invalid volume version: nvidia_driver_1.0")]
    [InlineData("/VolumeDriver.Create", "other_550.54.15", "unsupported volume: other_550.54.15")]
    [InlineData("/VolumeDriver.Create", "nvidia_driver", "bad volume format: nvidia_driver")]
    [InlineData("/VolumeDriver.Remove", "nvidia_driver_..", "bad volume format: nvidia_driver_..")]
    [InlineData("/VolumeDriver.Unmount", "x", "bad volume format: x")]
    [InlineData("/VolumeDriver.Create", "", "bad volume format: ")]
    public void Bad_names_get_the_original_errors(string path, string name, string error) =>
        Assert.Equal($"{{\"Err\":\"{error}\"}}\n", Post(path, Name(name)).Body);

    [Fact]
    public void A_dot_dot_version_never_reaches_outside_the_volumes()
    {
        Directory.CreateDirectory(_dir["volumes/nvidia_driver"]);
        File.WriteAllText(_dir["volumes/keep"], "x");
        Post("/VolumeDriver.Remove", Name("nvidia_driver_.."));
        Post("/VolumeDriver.Remove", Name("nvidia_driver_."));
        Assert.True(File.Exists(_dir["volumes/keep"]));
        Assert.Contains("bad volume format", Post("/VolumeDriver.Mount", Name("nvidia_driver_..")).Body);
    }

    [Theory]
    [InlineData("{\"Name\":")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("{\"Name\":5}")]
    [InlineData("[]")]
    public void Malformed_requests_are_an_internal_error(string body)
    {
        var r = Post("/VolumeDriver.Create", body);
        Assert.Equal((500, HttpReply.PlainText, "internal error, check logs for details\n"), r);
    }

    [Fact]
    public void Names_are_read_case_insensitively_and_unknown_fields_ignored() =>
        Assert.Equal("{\"Err\":\"invalid volume version: nvidia_driver_1\"}\n", Post("/VolumeDriver.Create", "{\"name\":\"nvidia_driver_1\",\"Opts\":{\"a\":\"b\"}}").Body);

    [Fact]
    public void Wrong_methods_and_unknown_endpoints_are_404()
    {
        Assert.Equal(404, Post("/VolumeDriver.List", method: "GET").Status);
        Assert.Equal(404, Post("/VolumeDriver.Nope").Status);
        Assert.Equal("404 page not found\n", Post("/").Body);
    }
}

public sealed class VolumeBuilderTests : IDisposable
{
    readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    sealed class CrossDevice : IFileCloner
    {
        public int TryLink(string source, string target) => 18; // EXDEV
    }

    VolumeFiles Driver()
    {
        Directory.CreateDirectory(_dir["drv"]);
        File.WriteAllBytes(_dir["drv/libcuda.so.550.54.15"], ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1"));
        File.WriteAllBytes(_dir["drv/libGLX_nvidia.so.550.54.15"], ElfWriter.SharedObject(ElfArch.X86_64, "libGLX_nvidia.so.0"));
        File.WriteAllBytes(_dir["drv/libcuda32.so.550.54.15"], ElfWriter.SharedObject(ElfArch.I386, "libcuda.so.1"));
        File.WriteAllText(_dir["drv/nvidia-smi"], "#!/bin/sh\necho smi\n");
        File.SetUnixFileMode(_dir["drv/nvidia-smi"], (UnixFileMode)0b111_101_101);
        return new VolumeFiles([_dir["drv/nvidia-smi"]], [_dir["drv/libcuda32.so.550.54.15"]], [_dir["drv/libcuda.so.550.54.15"], _dir["drv/libGLX_nvidia.so.550.54.15"]]);
    }

    [Fact]
    public void A_volume_holds_hard_links_and_the_links_ldconfig_would_make()
    {
        var target = _dir["vol/nvidia_driver/550.54.15"];
        Assert.True(new VolumeBuilder(LinuxFileCloner.Instance, Log.Silent).Build(target, Driver()));
        Assert.Equal("libcuda.so.550.54.15", File.ResolveLinkTarget(Path.Combine(target, "lib64/libcuda.so.1"), false)!.Name);
        Assert.Equal("libcuda.so.550.54.15", File.ResolveLinkTarget(Path.Combine(target, "lib64/libcuda.so"), false)!.Name);
        Assert.Equal("libGLX_nvidia.so.550.54.15", File.ResolveLinkTarget(Path.Combine(target, "lib64/libGLX_indirect.so.0"), false)!.Name);
        Assert.Equal("libcuda32.so.550.54.15", File.ResolveLinkTarget(Path.Combine(target, "lib/libcuda.so.1"), false)!.Name);
        Assert.True(File.Exists(Path.Combine(target, "bin/nvidia-smi")));
        Assert.True(SameFile(_dir["drv/libcuda.so.550.54.15"], Path.Combine(target, "lib64/libcuda.so.550.54.15")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir["vol/nvidia_driver"], ".*"));
    }

    [Fact]
    public void Across_file_systems_files_are_copied_with_their_mode()
    {
        var target = _dir["vol/nvidia_driver/550.54.15"];
        Assert.True(new VolumeBuilder(new CrossDevice(), Log.Silent).Build(target, Driver()));
        var smi = Path.Combine(target, "bin/nvidia-smi");
        Assert.False(SameFile(_dir["drv/nvidia-smi"], smi));
        Assert.Equal(File.ReadAllText(_dir["drv/nvidia-smi"]), File.ReadAllText(smi));
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(smi));
    }

    [Fact]
    public void A_file_that_cannot_be_read_leaves_no_half_volume()
    {
        var files = Driver();
        File.WriteAllText(_dir["drv/libbroken.so.1"], "not elf");
        var broken = files with { Libraries64 = [.. files.Libraries64, _dir["drv/libbroken.so.1"]] };
        Assert.Throws<GantryException>(() => new VolumeBuilder(LinuxFileCloner.Instance, Log.Silent).Build(_dir["vol/nvidia_driver/1"], broken));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir["vol/nvidia_driver"]));
    }

    static bool SameFile(string a, string b)
    {
        Assert.True(Gantry.Host.FileStatus.TryLstat(a, out var sa));
        Assert.True(Gantry.Host.FileStatus.TryLstat(b, out var sb));
        return sa.SameFileAs(sb);
    }
}

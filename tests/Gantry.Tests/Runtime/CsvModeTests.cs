using System.Text;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Config;
using Gantry.Discovery.Tegra;
using Gantry.Elf;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Requests;
using Gantry.Runtime;
using Gantry.Simulation;
using Gantry.Tests.Support;
using static Gantry.Tests.Runtime.SpecView;

namespace Gantry.Tests.Runtime;

/// <summary>A Jetson-like driver root (no NVML) and CSV mount specs in a directory beside it.</summary>
public sealed class TegraHost : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Root => Dir["root"];
    internal string CsvDir => Dir["csv"];
    const string Lib = "/usr/lib/aarch64-linux-gnu";

    public TegraHost()
    {
        Write("/etc/nv_tegra_release", "# R36 (release), REVISION: 3.0\n");
        File.WriteAllBytes(Path.Combine(Root, $"{Lib}/nvidia/libcuda.so.1.1".TrimStart('/')).EnsureParent(), ElfWriter.SharedObject(ElfArch.Aarch64, "libcuda.so.1"));
        File.CreateSymbolicLink(Path.Combine(Root, $"{Lib}/nvidia/libcuda.so.1".TrimStart('/')), "libcuda.so.1.1");
        File.CreateSymbolicLink(Path.Combine(Root, $"{Lib}/libcuda.so".TrimStart('/')), "nvidia/libcuda.so.1");
        File.CreateSymbolicLink(Path.Combine(Root, $"{Lib}/libnvidia-ignored.so".TrimStart('/')), "nvidia/libcuda.so.1");
        Write($"{Lib}/nvidia/libnvrm_gpu.so", "not an ELF file\n");
        Directory.CreateDirectory(Path.Combine(Root, "usr/share/nvidia-tegra"));
        foreach (var node in new[] { "/dev/nvmap", "/dev/nvhost-ctrl", "/dev/nvgpu/igpu0/ctrl", "/dev/nvgpu/igpu0/power" }) Write(node, "");
        Write("/" + SimulatedHostWriter.MarkerFile, "a test's Tegra root\n");
        Directory.CreateDirectory(CsvDir);
        File.WriteAllText(Path.Combine(CsvDir, "devices.csv"), "dev, /dev/nvmap\ndev, /dev/nvhost-ctrl\ndev, /dev/nvgpu/igpu0/*\ndev, /dev/nvhost-missing\n");
        File.WriteAllText(Path.Combine(CsvDir, "drivers.csv"),
            $"lib, {Lib}/nvidia/libcuda.so.1.1\nlib, {Lib}/nvidia/libnvrm_gpu.so\nsym, {Lib}/libcuda.so\nsym, {Lib}/libnvidia-ignored.so\n" +
            "dir, /usr/share/nvidia-tegra\nnot a spec line\nlib, relative/path.so\nbogus, /x\n");
        File.WriteAllText(Path.Combine(CsvDir, "l4t.csv"), "");
        File.WriteAllText(Path.Combine(CsvDir, "extra.csv"), "dir, /usr/share/nvidia-tegra\ndev, /dev/nvmap\nlib, /etc/nv_tegra_release\n");
    }

    void Write(string path, string text) => File.WriteAllText(Path.Combine(Root, path.TrimStart('/')).EnsureParent(), text);

    internal JsonObject Modify(RuntimeMode? mode, params string[] env)
    {
        var config = new ToolkitConfig();
        config.NvidiaContainerCli.Root = Root;
        config.NvidiaContainerRuntime.CsvMountSpecPath = CsvDir;
        config.NvidiaContainerRuntime.CdiSpecDirs = [Dir["no-cdi"]];
        var log = new RuntimeLog(LogLevel.Error, null, null, false);
        var injector = new CdiInjector(config, log, new EditsApplier(new PlainDevices()), "/usr/bin/nvidia-ctk",
            (_, _, _) => throw new InvalidOperationException("csv mode must not run the NVML discovery"));
        var json = "{\"process\":{\"env\":[" + string.Join(",", env.Select(e => JsonValue.Create(e).ToJsonString())) + "]}}";
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes(json), "config.json", false);
        var used = new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, mode);
        Assert.Equal(RuntimeMode.Csv, used);
        return (JsonObject)JsonNode.Parse(spec.Serialize())!;
    }

    public void Dispose() => Dir.Dispose();

    sealed class PlainDevices : IRuntimeSyscalls
    {
        public int StatDevice(string path, out DeviceNumber device) { device = new DeviceNumber("c", 10, 1); return File.Exists(path) ? 0 : -2; }
        public int Exec(string path, string[] argv) => -38;
    }
}

public sealed class CsvModeTests(TegraHost host) : IClassFixture<TegraHost>
{
    [Fact]
    public void Auto_mode_picks_csv_on_a_tegra_root_without_nvml()
    {
        Assert.True(TegraPlatform.IsTegraWithoutNvml(new HostRoots(host.Root), Log.Stderr(LogLevel.Error)));
        Assert.Equal(Injected(host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=all")), Injected(host.Modify(null, "NVIDIA_VISIBLE_DEVICES=all")));
    }

    [Fact]
    public void Dev_entries_become_device_nodes_and_missing_ones_are_skipped()
    {
        Assert.Equal(["/dev/nvgpu/igpu0/ctrl", "/dev/nvgpu/igpu0/power", "/dev/nvhost-ctrl", "/dev/nvmap"],
            SpecView.Devices(host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=0")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Libraries_sym_chains_dirs_and_the_release_file_are_mounted_and_linked()
    {
        var spec = host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=0");
        Assert.Equal(["/etc/nv_tegra_release", "/usr/lib/aarch64-linux-gnu/nvidia/libcuda.so.1.1", "/usr/lib/aarch64-linux-gnu/nvidia/libnvrm_gpu.so",
                "/usr/share/nvidia-tegra"], MountDestinations(spec).Order(StringComparer.Ordinal));
        var hooks = SpecView.Hooks(spec);
        Assert.Contains("create-symlinks --link libcuda.so.1::/usr/lib/aarch64-linux-gnu/nvidia/libcuda.so --link libcuda.so.1.1::/usr/lib/aarch64-linux-gnu/nvidia/libcuda.so.1", hooks);
        Assert.Contains("create-symlinks --link nvidia/libcuda.so.1::/usr/lib/aarch64-linux-gnu/libcuda.so --link libcuda.so.1.1::/usr/lib/aarch64-linux-gnu/nvidia/libcuda.so.1 " +
                        "--link nvidia/libcuda.so.1::/usr/lib/aarch64-linux-gnu/libnvidia-ignored.so", hooks);
        Assert.Equal("update-ldcache --folder /usr/lib/aarch64-linux-gnu/nvidia", hooks[^1]);
        Assert.DoesNotContain(hooks, h => h.StartsWith("enable-cuda-compat", StringComparison.Ordinal)); // no NVML, no CUDA version
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=void", Env(spec));
    }

    [Fact]
    public void Jetpack_csv_mounts_all_reads_every_csv_file()
    {
        var all = host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_JETPACK=csv-mounts=all");
        Assert.Equal(MountDestinations(host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=0")).Order(StringComparer.Ordinal),
            MountDestinations(all).Order(StringComparer.Ordinal)); // extra.csv only repeats entries
        Assert.Single(CsvMountSpecs.Files(host.CsvDir, allFiles: false), f => f.EndsWith("devices.csv", StringComparison.Ordinal));
        Assert.Contains(CsvMountSpecs.Files(host.CsvDir, allFiles: true), f => f.EndsWith("extra.csv", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_device_zero_exists_and_none_gets_the_driver_files_only()
    {
        var e = Assert.Throws<GantryException>(() => host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=1"));
        Assert.StartsWith("unknown device id '1': csv mode has a single device, 0 (or all)", e.Message);
        var none = host.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=none");
        Assert.Empty(SpecView.Devices(none));
        Assert.Contains("/usr/share/nvidia-tegra", MountDestinations(none));
    }

    [Fact]
    public void A_missing_spec_directory_is_a_clear_error()
    {
        using var empty = new TegraHost();
        Directory.Delete(empty.CsvDir, recursive: true);
        var e = Assert.Throws<GantryException>(() => empty.Modify(RuntimeMode.Csv, "NVIDIA_VISIBLE_DEVICES=0"));
        Assert.StartsWith("csv mode: no CSV mount specs (devices.csv, drivers.csv, l4t.csv) in", e.Message);
    }

    [Fact]
    public void The_parser_takes_type_comma_absolute_path_lines_only()
    {
        var entries = CsvMountSpecs.Parse("dev, /dev/a\n  lib ,/usr/lib/b.so  \nsym,/c\ndir, /d\n#comment\nlib, relative\nfoo, /e\n\ndev /f\n");
        Assert.Equal([new CsvEntry(CsvEntryKind.Dev, "/dev/a"), new CsvEntry(CsvEntryKind.Lib, "/usr/lib/b.so"),
            new CsvEntry(CsvEntryKind.Sym, "/c"), new CsvEntry(CsvEntryKind.Dir, "/d")], entries);
    }

    [Fact]
    public void Ignore_patterns_drop_sym_entries_by_path_or_base_name()
    {
        var roots = new HostRoots(host.Root);
        var entries = CsvMountSpecs.Load(CsvMountSpecs.Files(host.CsvDir, false), Log.Stderr(LogLevel.Error));
        var hooks = new Gantry.Cdi.Generate.HookFactory("/usr/bin/nvidia-cdi-hook", [], []);
        var spec = Gantry.Cdi.Generate.CsvSpecGenerator.Generate(roots, entries, hooks, new Gantry.Cdi.Generate.CsvGenerateOptions
        {
            IgnorePatterns = ["**/libnvidia-ignored.so"], HostCudaVersion = "12.6", CompatContainerRoot = TegraPlatform.OrinCompatRoot,
        });
        var args = spec.ContainerEdits!.Hooks!.Select(h => string.Join(" ", h.Args!.Skip(1))).ToList();
        Assert.DoesNotContain(args, a => a.Contains("libnvidia-ignored", StringComparison.Ordinal));
        Assert.Contains("enable-cuda-compat --host-cuda-version=12.6 --cuda-compat-container-root=/usr/local/cuda/compat_orin", args);
        Assert.Equal(["0", "all"], spec.Devices.Select(d => d.Name));
    }

    [BinaryFact]
    public void Cdi_generate_mode_csv_writes_the_same_spec_as_a_file()
    {
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "generate", "--mode=csv", "--driver-root=" + host.Root,
            "--csv.file=" + Path.Combine(host.CsvDir, "devices.csv"), "--csv.file=" + Path.Combine(host.CsvDir, "drivers.csv"),
            "--nvidia-cdi-hook-path=/usr/bin/nvidia-cdi-hook", "--format=json");
        Assert.True(r.ExitCode == 0, r.Combined);
        var spec = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("nvidia.com/gpu", (string)spec["kind"]!);
        Assert.Equal(["0", "all"], ((JsonArray)spec["devices"]!).Select(d => (string)d!["name"]!));
        Assert.Contains("/usr/share/nvidia-tegra", r.Stdout);
        Assert.Contains("update-ldcache", r.Stdout);
    }

    static string Injected(JsonObject spec) => $"{spec["mounts"]?.ToJsonString()} {spec["linux"]?.ToJsonString()} {spec["hooks"]?.ToJsonString()}";
}

using System.Text;
using CsCheck;
using Gantry.Cdi;
using Gantry.Common;
using Gantry.Config;
using Gantry.Discovery;
using Gantry.Elf;
using Gantry.NvidiaDocker;
using Gantry.NvidiaDockerWrapper;
using Gantry.Oci;
using Gantry.Requests;
using Gantry.Tests.Support;

namespace Gantry.Tests.Properties;

// Issue 17, part 5: every parser that reads what a user or an image controls, fed random and mutated input. Each
// may fail only with its documented error, must return within seconds and must not allocate without bound. A
// failure prints CsCheck's seed and the smallest input found; such inputs are kept as cases in Regressions below.
public sealed class ParserPropertyTests
{
    const int Iterations = 1500;
    const long AllocationBound = 64L << 20; // per input: no parser may need more than this for inputs of a few KB

    /// <summary>Up to 8 edits of a valid sample: byte changes, deletions, insertions and truncations.</summary>
    static Gen<byte[]> Mutated(byte[] valid) =>
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, Math.Max(0, valid.Length - 1)], Gen.Byte, Gen.Int[1, 16])
            .Array[1, 8]
            .Select(edits =>
            {
                var data = new List<byte>(valid);
                foreach (var (kind, at, value, length) in edits)
                {
                    var i = Math.Min(at, Math.Max(0, data.Count - 1));
                    switch (kind)
                    {
                        case 0 when data.Count > 0: data[i] = value; break;
                        case 1 when data.Count > 0: data.RemoveRange(i, Math.Min(length, data.Count - i)); break;
                        case 2: data.InsertRange(i, Enumerable.Repeat(value, length)); break;
                        default: if (data.Count > 0) data.RemoveRange(i, data.Count - i); break;
                    }
                }
                return data.ToArray();
            });

    static Gen<byte[]> Input(byte[] valid) => Gen.OneOf(Mutated(valid), Gen.Byte.Array[0, 2048]);

    static Gen<string> Text(string valid) => Gen.OneOf(Mutated(Encoding.UTF8.GetBytes(valid)).Select(b => Encoding.UTF8.GetString(b)),
        Gen.Char["\0 \t\n,.=<>!{}[]\":-#'abcdefxyz0123456789"].Array[0, 200].Select(c => new string(c)));

    /// <summary>Runs <paramref name="parse"/> on every input; only <paramref name="allowed"/> exceptions may escape.</summary>
    static void Check<T>(Gen<T> gen, Action<T> parse, params Type[] allowed) => Check(gen, parse, null, allowed);

    /// <param name="seed">A seed CsCheck printed for a failure: replays exactly that input (a kept regression case).</param>
    static void Check<T>(Gen<T> gen, Action<T> parse, string? seed, params Type[] allowed)
    {
        var run = Task.Run(() => gen.Sample(input =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try { parse(input); }
            catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e))) { }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationBound) throw new InvalidOperationException($"allocated {allocated} bytes for one input");
        }, iter: seed is null ? Iterations : 1, seed: seed));
        Assert.True(run.Wait(TimeSpan.FromSeconds(120)), "a parser did not return (hang)");
        if (run.IsFaulted) throw run.Exception!.InnerException!;
    }

    [Fact]
    public void Ld_so_cache() =>
        Check(Input(LdCacheWriter.Write(
            [new LdCacheEntry("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", LdCache.FlagElfLibc6 | LdCache.ArchX8664),
             new LdCacheEntry("libnvidia-ml.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", LdCache.FlagElfLibc6 | LdCache.ArchX8664)])),
            data => LdCache.Parse(data), typeof(InvalidDataException));

    [Fact]
    public void Elf_files() =>
        Check(Input(ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1", ["libc.so.6"], [ElfNote.AbiTag(0, 2, 3, 99)])),
            data => ElfReader.TryParse(data, out _, out _));

    const string CdiYaml = """
        cdiVersion: 0.5.0
        kind: nvidia.com/gpu
        devices:
        - name: "0"
          containerEdits:
            deviceNodes:
            - path: /dev/nvidia0
        containerEdits:
          env: [NVIDIA_VISIBLE_DEVICES=void]
          mounts:
          - hostPath: /usr/lib/libcuda.so.1
            containerPath: /usr/lib/libcuda.so.1
            options: [ro, nosuid, nodev, bind]
          hooks:
          - hookName: createContainer
            path: /usr/bin/nvidia-cdi-hook
            args: [nvidia-cdi-hook, update-ldcache]
        """;

    [Fact]
    public void Cdi_yaml_specs() => Check(Text(CdiYaml), text =>
    {
        if (SpecFile.TryParse(text, SpecFormat.Yaml, "fuzz.yaml", out var spec, out _)) SpecValidator.Validate(spec);
    });

    [Fact]
    public void Cdi_json_specs() => Check(Text("""{"cdiVersion":"0.6.0","kind":"nvidia.com/gpu","devices":[{"name":"0","containerEdits":{"deviceNodes":[{"path":"/dev/nvidia0","major":195}],"env":["A=1"]}}],"containerEdits":{"mounts":[{"hostPath":"/a","containerPath":"/a","options":["ro"]}]}}"""),
        text => { if (SpecFile.TryParse(text, SpecFormat.Json, "fuzz.json", out var spec, out _)) SpecValidator.Validate(spec); });

    const string ConfigToml = """
        disable-require = false
        swarm-resource = "DOCKER_RESOURCE_GPU"
        [nvidia-container-cli]
        root = "/run/nvidia/driver"
        ldconfig = "@/sbin/ldconfig"
        no-cgroups = false
        [nvidia-container-runtime]
        mode = "auto"
        runtimes = ["docker-runc", "runc", "crun"]
        [nvidia-container-runtime.modes.cdi]
        default-kind = "nvidia.com/gpu"
        spec-dirs = ["/etc/cdi", "/var/run/cdi"]
        [features]
        no-additional-gids-for-device-nodes = true
        """;

    [Fact]
    public void Config_toml() => Check(Text(ConfigToml), text => ToolkitConfigFile.Parse(text, "fuzz.toml"), typeof(GantryException));

    const string OciConfig = """{"ociVersion":"1.0.2","process":{"env":["PATH=/bin","NVIDIA_VISIBLE_DEVICES=0"],"args":["sh"]},"root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],"hooks":{"prestart":[{"path":"/usr/bin/nvidia-container-runtime-hook","args":["x","prestart"]}]},"linux":{"devices":[],"namespaces":[{"type":"mount"}]}}""";

    [Fact]
    public void Oci_config_json() => Check(Input(Encoding.UTF8.GetBytes(OciConfig)), data =>
    {
        var spec = OciSpec.Parse(data, "config.json", allowUnknownFields: true);
        _ = spec.Env; _ = spec.Mounts; _ = spec.Annotations; _ = spec.IsPrivileged;
        spec.Serialize();
    }, typeof(OciSpecException));

    [Fact]
    public void Requirement_expressions() => Check(Text("cuda>=12.0 brand=tesla,arch=8.0 driver<560"),
        text => Requirement.Parse(text), typeof(RequirementException));

    [Fact]
    public void Visible_devices_and_capabilities() => Check(Text("0,1,GPU-aaa,MIG-1:0,all,none,void,nvidia.com/gpu=0"), text =>
    {
        VisibleDevices.Parse(text);
        try { DriverCapabilityRequest.ParseSupported(text); } catch (UnsupportedCapabilityException) { }
    });

    static readonly string[] DockerWords =
    [
        "run", "create", "--rm", "-it", "-e", "NVIDIA_VISIBLE_DEVICES=0", "--gpus", "all", "-v", "/a:/b", "--name", "x", "-H",
        "unix:///run/d.sock", "--", "busybox", "sh", "-c", "true", "--volume-driver=nvidia-docker", "--device=/dev/nvidia0", "--log-level",
        "debug", "-D", "--config", "/x", "image:tag", "=", "", "-", "--env-file", "--runtime=nvidia",
    ];

    [Fact]
    public void Docker_argv_for_the_wrapper() =>
        Check(Gen.OneOf(Gen.Int[0, DockerWords.Length - 1].Select(i => DockerWords[i]), Gen.String[0, 12]).Array[0, 14],
            args => DockerArgs.Parse(args), typeof(UsageException), typeof(GantryException));

    [Fact]
    public void Volume_plugin_requests()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["driver"]);
        File.WriteAllBytes(dir["driver/libcuda.so.550.54.15"], ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1"));
        var files = new VolumeFiles([], [], [dir["driver/libcuda.so.550.54.15"]]);
        var store = new VolumeStore(dir["volumes"], () => files, new VolumeBuilder(LinuxFileCloner.Instance, Log.Silent), Log.Silent);
        var api = new VolumePluginApi(store, "550.54.15", Log.Silent);
        string[] paths = ["/Plugin.Activate", "/VolumeDriver.Create", "/VolumeDriver.Remove", "/VolumeDriver.Mount", "/VolumeDriver.Path",
            "/VolumeDriver.Unmount", "/VolumeDriver.Get", "/VolumeDriver.List", "/VolumeDriver.Capabilities", "/x"];
        Check(Gen.Select(Gen.Int[0, paths.Length - 1], Input("""{"Name":"nvidia_driver_550.54.15","ID":"abc","Opts":{}}"""u8.ToArray())),
            t => api.Handle("POST", paths[t.Item1], "application/vnd.docker.plugins.v1.2+json", t.Item2));
    }

    [Fact]
    public void Remote_api_queries() => Check(Text("dev=0+1&vol=nvidia_driver&ids=GPU-a"), q => QueryString.Parse(q));

    // Found by Oci_config_json (seed 2pRlG7bBf4C2): a byte that is not UTF-8 inside a string value made reading the
    // spec's env throw InvalidOperationException from the JSON reader, long after Parse had accepted the file.
    [Fact]
    public void Regression_invalid_utf8_in_a_config_json_string_is_the_documented_error()
    {
        var json = Encoding.UTF8.GetBytes(OciConfig);
        json[Array.IndexOf(json, (byte)'P') + 1] = 0xAC;
        var e = Assert.Throws<OciSpecException>(() => OciSpec.Parse(json, "config.json", allowUnknownFields: true));
        Assert.Contains("not valid UTF-8", e.Message);
    }

    // Found by Config_toml (seed 1EDdPBKTp_G3): a mutated file whose string ends in an unknown escape made Tomlyn's lexer
    // throw ArgumentOutOfRangeException (while formatting the character for its message) instead of reporting the
    // file as malformed. The seed replays that input; escapes that name no character are checked beside it.
    [Fact]
    public void Regression_config_toml_seed_1EDdPBKTp_G3() =>
        Check(Text(ConfigToml), text => ToolkitConfigFile.Parse(text, "fuzz.toml"), "1EDdPBKTp_G3", typeof(GantryException));

    [Theory]
    [InlineData("ldconfig = \"@/sbin/\\UD800DC00\"")]
    [InlineData("ldconfig = \"\\uD800\"")]
    [InlineData("ldconfig = \"\\U00110000\"")]
    [InlineData("ldconfig = \"\\)\"")]
    public void Regression_an_escape_that_names_no_character_is_the_documented_error(string line)
    {
        var e = Assert.Throws<GantryException>(() => ToolkitConfigFile.Parse("[nvidia-container-cli]\n" + line + "\n", "fuzz.toml"));
        Assert.Contains("fuzz.toml", e.Message);
        Assert.Contains("invalid TOML", e.Message);
    }
}

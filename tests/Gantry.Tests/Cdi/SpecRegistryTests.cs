using Gantry.Cdi;
using Gantry.NvidiaCtk;
using Gantry.Common;

namespace Gantry.Tests.Cdi;

public sealed class SpecRegistryTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("gantry-cdi-registry-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    string Dir(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    static string SpecYaml(string kind, params string[] devices) =>
        $"cdiVersion: 0.5.0\nkind: {kind}\ndevices:\n" + string.Concat(devices.Select(d => $"  - name: \"{d}\"\n    containerEdits:\n      env: [DEV={d}]\n"));

    [Fact]
    public void A_broken_file_is_an_error_and_the_good_files_still_load()
    {
        var etc = Dir("etc");
        File.WriteAllText(Path.Combine(etc, "broken.yaml"), "cdiVersion: 0.5.0\nkind: [\n");
        File.WriteAllText(Path.Combine(etc, "invalid.json"), "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nokind\",\"devices\":[]}");
        File.WriteAllText(Path.Combine(etc, "good.yaml"), SpecYaml("nvidia.com/gpu", "0", "all"));
        File.WriteAllText(Path.Combine(etc, "ignored.txt"), "not a spec");

        var registry = SpecRegistry.Load([etc, Path.Combine(_root, "missing")]);

        Assert.Equal(["nvidia.com/gpu=0", "nvidia.com/gpu=all"], registry.DeviceNames);
        Assert.Contains(registry.Errors, e => e.File.EndsWith("broken.yaml") && e.Line is not null);
        Assert.Contains(registry.Errors, e => e.File.EndsWith("invalid.json") && e.Message.StartsWith("kind:"));
        Assert.Single(registry.Specs);
    }

    [Fact]
    public void A_later_directory_overrides_an_earlier_one_and_the_same_directory_conflicts()
    {
        var etc = Dir("etc");
        var run = Dir("run");
        File.WriteAllText(Path.Combine(etc, "a.yaml"), SpecYaml("nvidia.com/gpu", "0", "1"));
        File.WriteAllText(Path.Combine(run, "b.yaml"), SpecYaml("nvidia.com/gpu", "1"));
        File.WriteAllText(Path.Combine(run, "c.yaml"), SpecYaml("example.com/x", "z"));
        File.WriteAllText(Path.Combine(run, "d.yaml"), SpecYaml("example.com/x", "z"));

        var registry = SpecRegistry.Load([etc, run]);

        Assert.Equal(["nvidia.com/gpu=0", "nvidia.com/gpu=1"], registry.DeviceNames);
        Assert.EndsWith("b.yaml", registry.Devices["nvidia.com/gpu=1"].Spec.Path);
        var conflict = Assert.Single(registry.Errors);
        Assert.Contains("conflicting device \"example.com/x=z\"", conflict.Message);
    }

    [Fact]
    public void Cdi_list_prints_names_on_stdout_and_counts_on_stderr()
    {
        var etc = Dir("etc");
        File.WriteAllText(Path.Combine(etc, "good.json"),
            "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{\"env\":[\"A=1\"]}}]}");
        File.WriteAllText(Path.Combine(etc, "bad.yaml"), "{");
        var stderr = new StringWriter();
        var stdout = new StringWriter();
        Assert.Equal(0, CdiList.Run(["--spec-dir", etc], new Log(stderr, LogLevel.Info), stdout));
        Assert.Equal("nvidia.com/gpu=0\n", stdout.ToString());
        Assert.Contains("INFO: Found 1 CDI devices", stderr.ToString());
        Assert.Contains("WARNING: " + Path.Combine(etc, "bad.yaml"), stderr.ToString());
    }
}

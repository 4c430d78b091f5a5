using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

public sealed class CdiGenerateTests
{
    [BinaryFact]
    public void A_one_gpu_host_gives_the_golden_spec()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-1gpu.yaml", Sim.Normalize(r.Stdout, d["host"]));
        Assert.Contains("Generated CDI spec with version 0.5.0", r.Stderr);
    }

    [BinaryFact]
    public void The_json_format_gives_the_golden_spec()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--format=json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-1gpu.json", Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryFact]
    public void A_mig_host_gives_the_golden_spec()
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "0:2", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--device-name-strategy=index", "--device-name-strategy=uuid", "--device-name-strategy=type-index");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-mig.yaml", Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryFact]
    public void A_driver_under_a_non_root_prefix_gives_the_golden_spec()
    {
        using var d = Sim.Host("--gpus", "1", "--driver-root-prefix", "run/nvidia/driver", "--device-nodes", "plain", "--without", "graphics");
        var r = Sim.Generate(d["host/run/nvidia/driver"], $"--dev-root={d["host"]}", "--device-name-strategy=index");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-driver-root.yaml", Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryFact]
    public void Eight_gpus_give_a_device_per_gpu_and_name()
    {
        using var d = Sim.Host("--gpus", "8", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--format=json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        for (var i = 0; i < 8; i++)
        {
            Assert.Contains($"{{\"name\":\"{i}\",", r.Stdout);
            Assert.Contains($"\"path\":\"/dev/nvidia{i}\"", r.Stdout);
        }
        Assert.Contains("{\"name\":\"all\",", r.Stdout);
        Assert.Equal(8, CountOf(r.Stdout, "\"name\":\"GPU-"));
    }

    [BinaryFact]
    public void The_same_host_gives_byte_identical_specs()
    {
        using var d = Sim.Host("--gpus", "4", "--mig", "1:3");
        var a = Sim.Generate(d["host"]);
        var b = Sim.Generate(d["host"]);
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.Stdout, b.Stdout);
    }

    [BinaryFact]
    public void Without_nvml_the_gpus_come_from_procfs_with_a_warning()
    {
        using var d = Sim.Host("--gpus", "2", "--without", "nvml", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--device-name-strategy=index");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("/proc/driver/nvidia", r.Stderr);
        Assert.Contains("compute capability, memory, brand and MIG devices are unknown", r.Stderr);
        Assert.Contains("- name: \"1\"", r.Stdout);
        Assert.Contains("path: /dev/nvidia1", r.Stdout);
    }

    [BinaryFact]
    public void Thirty_two_bit_libraries_are_not_mounted_as_in_the_original()
    {
        using var d = Sim.Host("--gpus", "1", "--compat32", "--device-nodes", "plain");
        Assert.True(File.Exists(d["host/usr/lib/i386-linux-gnu/libcuda.so.550.54.15"]));
        var r = Sim.Generate(d["host"]);
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("i386-linux-gnu", r.Stdout);
        Assert.Contains("containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", r.Stdout);
    }

    [RootFact]
    public void Character_device_nodes_carry_major_minor_and_mode()
    {
        if (TestEnvironment.MissingBinary() is { } why) { Assert.Fail(why); return; }
        using var d = Sim.Host("--gpus", "2", "--device-nodes", "char");
        var r = Sim.Generate(d["host"], "--format=json", "--device-name-strategy=index");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"{{\"path\":\"/dev/nvidia1\",\"hostPath\":\"{d["host"]}/dev/nvidia1\",\"major\":195,\"minor\":1,\"fileMode\":438,\"permissions\":\"rwm\"}}", r.Stdout);
        Assert.Contains("\"path\":\"/dev/nvidiactl\",", r.Stdout);
        Assert.Contains("\"minor\":255", r.Stdout);
    }

    [BinaryFact]
    public void Generated_specs_pass_validation_and_are_listed()
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "1:2", "--device-nodes", "plain");
        Directory.CreateDirectory(d["cdi"]);
        Assert.Equal(0, Sim.Generate(d["host"], $"--output={d["cdi/nvidia.yaml"]}").ExitCode);
        var v = TestEnvironment.Run(TestEnvironment.Gantry, "cdi", "validate", d["cdi/nvidia.yaml"]);
        Assert.True(v.ExitCode == 0, v.Combined);
        Assert.Contains("valid (cdiVersion 0.5.0", v.Stdout);
        var l = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "list", $"--spec-dir={d["cdi"]}");
        Assert.True(l.ExitCode == 0, l.Combined);
        Assert.Equal(["nvidia.com/gpu=0", "nvidia.com/gpu=1:0", "nvidia.com/gpu=1:1"], l.Stdout.Split('\n').Where(x => x.Contains('=') && !x.Contains("GPU-") && !x.Contains("MIG-") && !x.EndsWith("=all")));
        Assert.Contains("Found 7 CDI devices", l.Stderr);
    }

    [BinaryFact]
    public void The_global_config_names_the_driver_root_as_nvidia_container_cli_root()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllText(d["config.toml"], $"[nvidia-container-cli]\nroot = \"{d["host"]}\"\n");
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "--config", d["config.toml"], "cdi", "generate", "--nvidia-cdi-hook-path=/usr/bin/nvidia-cdi-hook");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden("sim-1gpu.yaml", Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryTheory]
    [InlineData("missing.toml", null, "config file {0} (from --config or NVIDIA_CTK_CONFIG) does not exist")]
    [InlineData("garbage.toml", "this is [not toml\n", "{0}:1:")]
    [InlineData("", null, "config file {0} (from --config or NVIDIA_CTK_CONFIG) is a directory, not a file")]
    public void A_missing_or_garbage_global_config_is_refused_by_generate(string name, string? content, string expected)
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var config = name.Length == 0 ? d.Path : d[name];
        if (content is not null) File.WriteAllText(config, content);
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "--config", config, "cdi", "generate", $"--driver-root={d["host"]}");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains(string.Format(expected, config), r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [BinaryFact]
    public void Commands_that_do_not_read_the_global_config_say_it_is_ignored()
    {
        using var d = new TempDir();
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "--config", d["x.toml"], "cdi", "list", $"--spec-dir={d.Path}");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"Ignoring the global --config {d["x.toml"]}: only 'nvidia-ctk cdi generate' reads it (for nvidia-container-cli.root)", r.Stderr);
    }

    [BinaryFact]
    public void The_file_written_is_named_and_a_directory_as_output_is_warned_about()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        Directory.CreateDirectory(d["cdi"]);
        var file = Sim.Generate(d["host"], $"--output={d["cdi/nvidia.yaml"]}");
        Assert.Equal(0, file.ExitCode);
        Assert.Contains($"Wrote CDI spec to {d["cdi/nvidia.yaml"]}", file.Stderr);
        Assert.DoesNotContain("WARN", file.Stderr);
        var dir = Sim.Generate(d["host"], $"--output={d["cdi"]}");
        Assert.Equal(0, dir.ExitCode);
        Assert.True(File.Exists(d["cdi.yaml"]));
        Assert.Contains($"--output {d["cdi"]} is a directory: the spec was written to {d["cdi.yaml"]}, as the original does", dir.Stderr);
        Assert.Contains($"Wrote CDI spec to {d["cdi.yaml"]}", dir.Stderr);
        var slash = Sim.Generate(d["host"], $"--output={d["cdi"]}/");
        Assert.Equal(0, slash.ExitCode);
        Assert.True(File.Exists(d["cdi/.yaml"]));
        Assert.Contains($"Wrote CDI spec to {d["cdi"]}/.yaml", slash.Stderr);
    }

    [BinaryFact]
    public void An_unknown_hook_or_feature_flag_is_warned_about_naming_the_known_ones()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--disable-hook=bogus", "--disable-hook=update-ldcache", "--enable-hook=nope", "--feature-flag=shiny");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Ignoring unknown hook 'bogus' in --disable-hook: the hooks are create-symlinks, update-ldcache, enable-cuda-compat, " +
                        "disable-device-node-modification, update-application-profile, chmod (or all)", r.Stderr);
        Assert.Contains("Ignoring unknown hook 'nope' in --enable-hook: the hooks are create-symlinks,", r.Stderr);
        Assert.Contains("Ignoring unknown feature flag 'shiny' in --feature-flag: the feature flags are enable-explicit-driver-libraries,", r.Stderr);
        Assert.DoesNotContain("update-ldcache'", r.Stderr);
        Assert.DoesNotContain("- update-ldcache", r.Stdout);
        var known = Sim.Generate(d["host"], "--disable-hook=all", "--feature-flag=no-additional-gids-for-device-nodes");
        Assert.DoesNotContain("Ignoring", known.Stderr);
    }

    static int CountOf(string s, string part) => (s.Length - s.Replace(part, "").Length) / part.Length;
}

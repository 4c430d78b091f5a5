using Gantry.Cdi.Generate;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// cdi generate's modes beside nvml and csv, and its feature flags, on simulated hosts that have those devices.
public sealed class CdiGenerateModeTests
{
    [BinaryTheory]
    [InlineData("management", "sim-management.yaml")]
    [InlineData("imex", "sim-imex.yaml")]
    [InlineData("gds", "sim-gds.yaml")]
    [InlineData("mofed", "sim-mofed.yaml")]
    [InlineData("gdrcopy", "sim-gdrcopy.yaml")]
    [InlineData("nvswitch", "sim-nvswitch.yaml")]
    public void Each_mode_gives_the_golden_spec(string mode, string golden)
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "1:1", "--imex-channels", "2", "--with", "gds,mofed,gdrcopy,nvswitch", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], $"--mode={mode}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden(golden, Sim.Normalize(r.Stdout, d["host"]));
    }

    [BinaryFact]
    public void Management_with_the_chmod_hook_and_the_original_kind()
    {
        using var d = Sim.Host("--gpus", "1", "--mig", "0:1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--mode=management", "--enable-hook=chmod");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("kind: management.nvidia.com/gpu", r.Stdout);
        Assert.Contains("- chmod\n", r.Stdout);
        Assert.Contains("- /dev/nvidia-caps\n", r.Stdout);
        Assert.DoesNotContain("disable-device-node-modification", r.Stdout);
        Assert.DoesNotContain("update-application-profile", r.Stdout);
    }

    [BinaryFact]
    public void A_mode_whose_devices_are_missing_is_an_error()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--mode=gds");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("no gds device nodes", r.Stderr);
        var imex = Sim.Generate(d["host"], "--mode=imex");
        Assert.NotEqual(0, imex.ExitCode);
        Assert.Contains("no IMEX channels", imex.Stderr);
    }

    [BinaryFact]
    public void The_chmod_hook_covers_the_dri_directory_of_a_gpu()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--enable-hook=chmod", "--device-name-strategy=index");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("- chmod\n", r.Stdout);
        Assert.Contains("- /dev/dri\n", r.Stdout);
        Assert.DoesNotContain("- chmod\n", Sim.Generate(d["host"]).Stdout);
    }

    [BinaryFact]
    public void Without_driver_root_the_config_files_nvidia_container_cli_root_is_used()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllText(d["config.toml"], $"[nvidia-container-cli]\nroot = \"{d["host"]}\"\n");
        var viaConfig = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "--config", d["config.toml"], "cdi", "generate", "--nvidia-cdi-hook-path=/usr/bin/nvidia-cdi-hook");
        Assert.True(viaConfig.ExitCode == 0, viaConfig.Stderr);
        Assert.Equal(Sim.Generate(d["host"]).Stdout, viaConfig.Stdout);
    }

    [BinaryTheory]
    [InlineData(NvcdiFeatures.DisableIpcDiscoverer, "", "nvidia-persistenced/socket")]
    [InlineData(NvcdiFeatures.ExplicitDriverLibraries, "libnvidia-api.so.1", "")]
    [InlineData(NvcdiFeatures.DisableNvsandboxutils, "", "")]
    [InlineData("disable-nvsandbox-utils", "", "")]
    [InlineData(NvcdiFeatures.DisableMultipleCsvDevices, "", "")]
    public void Each_feature_flag_changes_the_spec_as_the_originals_does(string flag, string added, string removed)
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        // An explicitly listed library the driver does not version: the flag brings it in.
        var lib = d["host/usr/lib/x86_64-linux-gnu"];
        File.WriteAllBytes(lib + "/libnvidia-api.so.1", Gantry.Elf.ElfWriter.SharedObject(Gantry.Elf.ElfArch.X86_64, "libnvidia-api.so.1"));
        File.CreateSymbolicLink(lib + "/libnvidia-api.so", "libnvidia-api.so.1");
        var without = Sim.Generate(d["host"]);
        var with = Sim.Generate(d["host"], $"--feature-flag={flag}");
        Assert.True(with.ExitCode == 0, with.Stderr);
        if (added.Length > 0) { Assert.DoesNotContain(added, without.Stdout); Assert.Contains(added, with.Stdout); }
        if (removed.Length > 0) { Assert.Contains(removed, without.Stdout); Assert.DoesNotContain(removed, with.Stdout); }
        // Flags whose effect Gantry already has say so instead of changing nothing in silence.
        if (added.Length == 0 && removed.Length == 0) { Assert.Equal(without.Stdout, with.Stdout); Assert.Contains("Feature flag ", with.Stderr); }
    }

    [BinaryFact]
    public void An_unknown_feature_flag_is_named()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var unknown = Sim.Generate(d["host"], "--feature-flag=no-such-flag");
        Assert.Equal(0, unknown.ExitCode);
        Assert.Contains("Ignoring unknown feature flag 'no-such-flag' in --feature-flag: the feature flags are enable-explicit-driver-libraries", unknown.Stderr);
    }

    // As the original: ATS addressing is coherent, HMM or none reported is not; the main spec is what it is without
    // the flag, and no written spec keeps the annotation the split was made by.
    [BinaryFact]
    public void Coherent_annotations_split_the_full_gpus_into_coherent_and_noncoherent_specs()
    {
        using var d = Sim.Host("--gpus", "4", "--addressing-mode", "0:ats,2:ats", "--addressing-mode", "1:hmm", "--mig", "3:1", "--device-nodes", "plain");
        var plain = Sim.Generate(d["host"]);
        Directory.CreateDirectory(d["out"]);
        var r = Sim.Generate(d["host"], "--feature-flag=enable-coherent-annotations", "--output=" + d["out/nvidia.yaml"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(plain.Stdout, File.ReadAllText(d["out/nvidia.yaml"]));
        Assert.Equal(["nvidia.coherent.yaml", "nvidia.noncoherent.yaml", "nvidia.yaml"], Directory.GetFiles(d["out"]).Select(Path.GetFileName).Order());
        var coherent = File.ReadAllText(d["out/nvidia.coherent.yaml"]);
        Sim.AssertGolden("sim-coherent.yaml", Sim.Normalize(coherent, d["host"]));
        Assert.Contains("kind: nvidia.com/gpu.coherent\n", coherent);
        var noncoherent = File.ReadAllText(d["out/nvidia.noncoherent.yaml"]);
        Assert.Contains("kind: nvidia.com/gpu.noncoherent\n", noncoherent);
        Assert.Equal(["1", "GPU-", "all"], DeviceNames(noncoherent).Select(n => n.StartsWith("GPU-") ? "GPU-" : n));
        Assert.Equal(["0", "2", "GPU-", "GPU-", "all"], DeviceNames(coherent).Select(n => n.StartsWith("GPU-") ? "GPU-" : n).Order(StringComparer.Ordinal));
        foreach (var spec in new[] { coherent, noncoherent }) Assert.DoesNotContain("annotations", spec);
        Assert.Contains("Wrote CDI spec to " + d["out/nvidia.coherent.yaml"], r.Stderr);
    }

    [BinaryFact]
    public void Coherent_annotations_without_a_reported_addressing_mode_call_every_gpu_noncoherent_and_stdout_gets_each_spec()
    {
        using var d = Sim.Host("--gpus", "2", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--feature-flag=enable-coherent-annotations", "--device-name-strategy=index", "--format=json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(r.Stdout, "\"cdiVersion\"").Count);
        Assert.Contains("\"kind\":\"nvidia.com/gpu\"", r.Stdout.Replace(" ", ""));
        Assert.Contains("\"kind\":\"nvidia.com/gpu.noncoherent\"", r.Stdout.Replace(" ", ""));
        Assert.DoesNotContain("gpu.coherent", r.Stdout);
    }

    [BinaryFact]
    public void Coherent_annotations_without_nvml_write_the_main_spec_and_say_why_there_is_no_split()
    {
        using var d = Sim.Host("--gpus", "1", "--without", "nvml", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--feature-flag=enable-coherent-annotations");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("no split specs are written", r.Stderr);
        Assert.DoesNotContain("coherent", r.Stdout);
    }

    static IEnumerable<string> DeviceNames(string yaml) =>
        System.Text.RegularExpressions.Regex.Matches(yaml, @"^\s*- name: ""?([^""\n]+)""?$", System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => m.Groups[1].Value);

    [BinaryFact]
    public void No_additional_gids_is_honoured()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--feature-flag=no-additional-gids-for-device-nodes");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.DoesNotContain("additionalGids", r.Stdout);
    }

    [BinaryTheory]
    [InlineData("host", "sim-transform-host.yaml")]
    [InlineData("container", "sim-transform-container.yaml")]
    public void Transform_root_moves_one_side_of_the_spec(string side, string golden)
    {
        using var d = Sim.Host("--gpus", "1", "--driver-root-prefix", "run/nvidia/driver", "--device-nodes", "plain", "--without", "graphics");
        var spec = Sim.Generate(d["host/run/nvidia/driver"], $"--dev-root={d["host"]}", "--device-name-strategy=index", $"--output={d["in.yaml"]}");
        Assert.True(spec.ExitCode == 0, spec.Stderr);
        var from = side == "host" ? d["host/run/nvidia/driver"] : "/usr/lib/x86_64-linux-gnu";
        var to = side == "host" ? "/" : "/usr/lib64";
        var r = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "transform", "root", $"--from={from}", $"--to={to}", $"--relative-to={side}", $"--input={d["in.yaml"]}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Sim.AssertGolden(golden, Sim.Normalize(r.Stdout, d["host"]));
        // Read back strictly, and valid.
        File.WriteAllText(d["out.yaml"], r.Stdout);
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "cdi", "validate", d["out.yaml"]).ExitCode);
    }

    [BinaryFact]
    public void Transform_root_reads_stdin_writes_a_file_and_refuses_a_bad_side()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain", "--without", "graphics");
        var spec = Sim.Generate(d["host"]).Stdout;
        var r = Gantry.Host.ProcessRunner.Run(TestEnvironment.NvidiaCtk, ["cdi", "transform", "root", $"--from={d["host"]}", "--to=/", $"--output={d["t.yaml"]}"], stdin: spec);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var written = File.ReadAllText(d["t.yaml"]);
        Assert.DoesNotContain(d["host"], written);
        Assert.Contains("hostPath: /dev/nvidia0", written);
        var bad = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "transform", "root", "--relative-to=guest", $"--input={d["t.yaml"]}");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("invalid --relative-to value", bad.Stderr);
    }
}

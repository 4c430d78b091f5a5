using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

public sealed class CdiGenerateBadInputTests
{
    [BinaryFact]
    public void A_driver_root_that_does_not_exist_is_one_clear_error()
    {
        var r = Sim.Generate("/nonexistent/driver/root");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("driver root /nonexistent/driver/root does not exist", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal("", r.Stdout);
    }

    [BinaryFact]
    public void A_driver_root_that_is_a_file_is_named_as_a_file()
    {
        using var d = new TempDir();
        File.WriteAllText(d["root"], "");
        var r = Sim.Generate(d["root"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"driver root {d["root"]} is a file, not a directory; point --driver-root at the directory the driver is installed in", r.Stderr);
    }

    [BinaryFact]
    public void An_output_on_procfs_names_the_file_and_the_file_system_not_a_temp_file()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--output=/proc/foo.yaml");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("failed to write CDI spec /proc/foo.yaml: /proc is on procfs, which takes no files", r.Stderr);
        Assert.DoesNotContain(".tmp", r.Stderr);
    }

    [BinaryFact]
    public void An_immutable_output_directory_is_named_with_the_cause()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        Directory.CreateDirectory(d["cdi"]);
        using var immutable = Immutable.TrySet(d["cdi"]);
        if (immutable is null) return; // chattr +i is not available here
        var r = Sim.Generate(d["host"], $"--output={d["cdi/nvidia.yaml"]}");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"failed to write CDI spec {d["cdi/nvidia.yaml"]}: the directory {d["cdi"]} is immutable (chattr +i)", r.Stderr);
        Assert.DoesNotContain(".tmp", r.Stderr);
        Assert.DoesNotContain("Access to the path", r.Stderr);
    }

    [BinaryFact]
    public void A_driver_root_without_a_driver_is_one_clear_error()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["empty/usr/lib"]);
        var r = Sim.Generate(d["empty"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no NVIDIA driver found under driver root", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [BinaryTheory]
    [InlineData("--device-name-strategy=bogus", "invalid device name strategy 'bogus'")]
    [InlineData("--format=toml", "invalid output format 'toml'")]
    [InlineData("--mode=bogus", "invalid discovery mode 'bogus'")]
    [InlineData("--no-such-flag", "flag provided but not defined")]
    public void Bad_flags_are_usage_errors(string flag, string message)
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], flag);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [BinaryFact]
    public void An_unknown_device_id_names_the_devices_there_are()
    {
        using var d = Sim.Host("--gpus", "2", "--device-nodes", "plain");
        var r = Sim.Generate(d["host"], "--device-id=99");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown device id '99': this host has GPUs 0..1", r.Stderr);
    }

    [BinaryFact]
    public void An_unwritable_output_is_an_error_and_leaves_no_file()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllText(d["blocker"], "a file where a directory should be");
        var r = Sim.Generate(d["host"], $"--output={d["blocker"]}/spec.yaml");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("spec.yaml", r.Stderr);
        Assert.Equal("a file where a directory should be", File.ReadAllText(d["blocker"]));
        Assert.DoesNotContain(Directory.GetFiles(d.Path), f => f.EndsWith(".tmp"));
    }

    [BinaryFact]
    public void An_existing_spec_is_replaced_whole_and_with_mode_0644()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllText(d["nvidia.yaml"], "old content");
        var r = Sim.Generate(d["host"], $"--output={d["nvidia.yaml"]}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("---\ncdiVersion: 0.5.0\n", File.ReadAllText(d["nvidia.yaml"]));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(d["nvidia.yaml"]));
        Assert.Single(Directory.GetFiles(d.Path));
    }

    [BinaryFact]
    public void The_output_extension_picks_the_format_and_a_missing_one_is_added()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        Assert.Equal(0, Sim.Generate(d["host"], $"--output={d["spec.json"]}").ExitCode);
        Assert.StartsWith("{\"cdiVersion\":", File.ReadAllText(d["spec.json"]));
        Assert.Equal(0, Sim.Generate(d["host"], $"--output={d["noext"]}", "--format=json").ExitCode);
        Assert.True(File.Exists(d["noext.json"]));
    }

    [BinaryFact]
    public void A_corrupt_ld_cache_is_named_and_the_search_paths_still_find_the_driver()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        File.WriteAllBytes(d["host/etc/ld.so.cache"], "glibc-ld.so.cache1.1 but then garbage"u8.ToArray());
        var r = Sim.Generate(d["host"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"{d["host"]}/etc/ld.so.cache", r.Stderr);
        Assert.Contains("falling back to the library search paths", r.Stderr);
        Assert.Contains("containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", r.Stdout);
    }
}

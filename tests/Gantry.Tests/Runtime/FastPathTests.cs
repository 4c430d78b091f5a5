using Gantry.Host;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

// The runtime launcher (native/runtime-launcher/launcher.c) replays the runtime the C# shim recorded, for commands
// other than create, and execs the C# shim whenever the record no longer holds. The tests tell the two apart by
// editing the record by hand: only the launcher believes it.
public sealed class FastPathTests : IDisposable
{
    readonly TempDir _dir = new();
    string Config => _dir["config.toml"];
    string CacheDir => _dir["cache"];
    // Runtimes in a directory of their own: the record depends on its mtime, so nothing else is created there.
    string Bin => _dir["bin"];
    string Recorded => _dir["log/ran"];

    public FastPathTests()
    {
        Directory.CreateDirectory(_dir["log"]);
        Directory.CreateDirectory(Bin);
        foreach (var name in new[] { "runtime-a", "runtime-b" })
        {
            File.WriteAllText(Path.Combine(Bin, name), $"#!/bin/sh\necho \"{name} $*\" >>'{Recorded}'\n");
            File.SetUnixFileMode(Path.Combine(Bin, name), (UnixFileMode)0b111_101_101);
        }
        File.WriteAllText(Config, $"[nvidia-container-runtime]\nruntimes = [\"{Path.Combine(Bin, "runtime-a")}\"]\n");
    }

    ProcessResult Shim(params string[] args)
    {
        var env = $"NVIDIA_CTK_CONFIG_FILE_PATH='{Config}' {FastPathCache.DirectoryVariable}='{CacheDir}' PATH=/usr/bin:/bin";
        return ProcessRunner.Run("sh", ["-c", $"{env} exec '{Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime")}' {string.Join(" ", args)}"]);
    }

    string CacheFile => Directory.GetFiles(CacheDir).Single();

    string LastRun() => File.ReadAllLines(Recorded)[^1];

    /// <summary>Points the record at runtime-b: a run of runtime-b proves the fast path answered.</summary>
    void Redirect() => File.WriteAllText(CacheFile, File.ReadAllText(CacheFile).Replace("runtime-a", "runtime-b"));

    [BinaryFact]
    public void An_unknown_log_level_refuses_a_create_naming_the_key_but_lets_other_commands_through()
    {
        File.WriteAllText(Config, $"[nvidia-container-runtime]\nlog-level = \"loud\"\nruntimes = [\"{Path.Combine(Bin, "runtime-a")}\"]\n");
        File.WriteAllText(_dir["bundle/config.json"].EnsureDirectory(), "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[]},\"root\":{\"path\":\"rootfs\"}}");
        var create = Shim("create", "--bundle", _dir["bundle"], "c1");
        Assert.Equal(1, create.ExitCode);
        Assert.Contains($"invalid nvidia-container-runtime.log-level \"loud\" in {Config}: use one of panic, fatal, error, warn, warning, info, debug, trace", create.Stderr);
        Assert.False(File.Exists(Recorded), "the low-level runtime should not have been started");
        Assert.Equal(0, Shim("delete", "c1").ExitCode);
        Assert.Equal("runtime-a delete c1", LastRun());
    }

    [BinaryFact]
    public void The_records_are_capped_and_the_oldest_go_first()
    {
        Directory.CreateDirectory(CacheDir);
        var now = DateTime.UtcNow;
        var stale = Enumerable.Range(0, FastPathCache.MaxRecords + 6).Select(i => Path.Combine(CacheDir, i.ToString("x16"))).ToList();
        for (var i = 0; i < stale.Count; i++)
        {
            File.WriteAllText(stale[i], "gantry-shim-fastpath 1\n");
            File.SetLastWriteTimeUtc(stale[i], now.AddMinutes(-1000 + i));
        }
        File.WriteAllText(Path.Combine(CacheDir, "not-a-record"), "");
        Assert.Equal(0, Shim("state", "c1").ExitCode);
        var records = Directory.GetFiles(CacheDir).Where(f => Path.GetFileName(f) != "not-a-record").ToList();
        Assert.Equal(FastPathCache.MaxRecords, records.Count);
        Assert.Contains(Path.Combine(CacheDir, FastPathCache.Key(Config, "/usr/bin:/bin")), records);
        Assert.DoesNotContain(stale[0], records);
        Assert.Contains(stale[^1], records);
        Assert.True(File.Exists(Path.Combine(CacheDir, "not-a-record")));
    }

    [BinaryFact]
    public void A_recorded_resolution_is_replayed_for_commands_other_than_create()
    {
        Assert.Equal(0, Shim("state", "c1").ExitCode);
        Assert.Equal("runtime-a state c1", LastRun());
        Assert.Contains($"runtime {Path.Combine(Bin, "runtime-a")}", File.ReadAllText(CacheFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CacheFile));
        Redirect();
        Assert.Equal(0, Shim("--root", "/x", "delete", "--force", "c1").ExitCode);
        Assert.Equal("runtime-b --root /x delete --force c1", LastRun());
        // create, --version and --debug always take the full shim (create of a non-GPU spec only forwards).
        File.WriteAllText(_dir["bundle/config.json"].EnsureDirectory(), "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[]},\"root\":{\"path\":\"rootfs\"}}");
        Assert.Equal(0, Shim("create", "--bundle", _dir["bundle"], "c1").ExitCode);
        Assert.StartsWith("runtime-a create", LastRun());
        Redirect();
        Assert.Equal(0, Shim("--debug", "kill", "c1").ExitCode);
        Assert.Equal("runtime-a --debug kill c1", LastRun());
    }

    [BinaryFact]
    public void A_changed_config_or_an_untrusted_record_falls_back_to_the_full_shim()
    {
        Assert.Equal(0, Shim("state", "c1").ExitCode);
        Redirect();
        File.AppendAllText(Config, "# edited\n");
        Assert.Equal(0, Shim("state", "c2").ExitCode);
        Assert.Equal("runtime-a state c2", LastRun());  // and the record is rewritten for the new config

        Redirect();
        File.SetUnixFileMode(CacheFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
        Assert.Equal(0, Shim("state", "c3").ExitCode);
        Assert.Equal("runtime-a state c3", LastRun());

        Redirect();
        File.SetUnixFileMode(CacheFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(Bin, "new-file"), ""); // the directory runtime-a was found in changed
        Assert.Equal(0, Shim("state", "c4").ExitCode);
        Assert.Equal("runtime-a state c4", LastRun());
    }

    [BinaryFact]
    public void A_dangling_value_flag_is_still_reported_by_the_shim()
    {
        Assert.Equal(0, Shim("state", "c1").ExitCode);
        var r = Shim("state", "--bundle");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("bundle option requires an argument", r.Stderr);
    }

    [Fact]
    public void The_key_separates_config_and_path_and_records_refuse_what_c_cannot_check()
    {
        Assert.Matches("^[0-9a-f]{16}$", FastPathCache.Key("/etc/nvidia-container-runtime/config.toml", "/usr/bin:/bin"));
        Assert.NotEqual(FastPathCache.Key("/a", "b"), FastPathCache.Key("/a\0b", ""));
        Assert.Null(FastPathCache.Content("config-missing /x\n", "/bin", ["/bin"], "relative-runc"));
        Assert.Null(FastPathCache.Content("config-missing /x\n", "/bin", ["/bi\nn"], "/bin/runc"));
        Assert.Null(FastPathCache.Content("config-missing /x\n", "bin", ["bin"], "/bin/runc"));
    }

    public void Dispose() => _dir.Dispose();
}

internal static class PathExtensions
{
    public static string EnsureDirectory(this string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        return file;
    }
}

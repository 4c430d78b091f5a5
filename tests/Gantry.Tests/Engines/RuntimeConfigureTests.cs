using Gantry.NvidiaCtk;
using Gantry.Common;
using Gantry.Engines.Configure;
using Gantry.Tests.Config;

namespace Gantry.Tests.Engines;

public sealed class RuntimeConfigureTests
{
    static readonly Log Quiet = Log.Silent;

    static int Ctk(params string[] args) => RuntimeConfigureCommand.Run(args, Quiet, TextWriter.Null);

    static (TempDir Dir, string Config) Setup(string fixture, string name)
    {
        var dir = new TempDir();
        return (dir, dir.Write(name, EngineFixtures.Read(fixture)));
    }

    [Fact]
    public void Docker_adds_the_runtime_default_and_cdi_keeping_other_keys_in_order()
    {
        var (dir, cfg) = Setup("docker-daemon.input.json", "daemon.json");
        using var _ = dir;
        Ctk("configure", "--config", cfg, "--set-as-default", "--enable-cdi");
        EngineFixtures.Verify("docker-daemon.configured.json", File.ReadAllText(cfg));
        Assert.Equal(EngineFixtures.Read("docker-daemon.input.json"), File.ReadAllText(cfg + ".gantry.bak"));
    }

    [Fact]
    public void A_new_daemon_json_is_written_like_the_original()
    {
        using var dir = new TempDir();
        Ctk("configure", "--config", dir.File("daemon.json"));
        Assert.Equal("{\n    \"runtimes\": {\n        \"nvidia\": {\n            \"args\": [],\n            \"path\": \"nvidia-container-runtime\"\n        }\n    }\n}", File.ReadAllText(dir.File("daemon.json")));
        Assert.False(File.Exists(dir.File("daemon.json.gantry.bak")));
    }

    [Theory]
    [InlineData("docker", "docker-daemon.input.json", "daemon.json")]
    [InlineData("containerd", "containerd-v2.input.toml", "config.toml")]
    [InlineData("containerd", "containerd-v1.input.toml", "config.toml")]
    [InlineData("containerd", "containerd-v3.input.toml", "config.toml")]
    [InlineData("crio", "crio.input.conf", "crio.conf")]
    public void A_second_run_changes_nothing_and_undo_restores_the_original_bytes(string runtime, string fixture, string name)
    {
        var (dir, cfg) = Setup(fixture, name);
        using var _ = dir;
        var dropIn = runtime == "docker" ? "" : dir.File("conf.d/99-nvidia.toml");
        string[] common = ["--runtime", runtime, "--config", cfg, "--drop-in-config", dropIn, "--set-as-default"];
        Ctk(["configure", .. common]);
        var files = Snapshot(dir.Path);
        var mtime = File.GetLastWriteTimeUtc(cfg);
        Ctk(["configure", .. common]);
        Assert.Equal(files, Snapshot(dir.Path));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(cfg));
        Ctk(["unconfigure", .. common]);
        if (runtime != "docker") Assert.Equal(EngineFixtures.Read(fixture), File.ReadAllText(cfg));
        Assert.False(File.Exists(dropIn));
    }

    [Theory]
    [InlineData("docker", "docker-daemon.input.json", "daemon.json", false, "--set-as-default --enable-cdi")]
    [InlineData("docker", "docker-daemon.input.json", "daemon.json", false, "")]
    [InlineData("containerd", "containerd-v2.input.toml", "config.toml", true, "--set-as-default --enable-cdi")]
    [InlineData("containerd", "containerd-v2.input.toml", "config.toml", false, "--set-as-default")]
    [InlineData("containerd", "containerd-v1.input.toml", "config.toml", true, "")]
    [InlineData("containerd", "containerd-v3.input.toml", "config.toml", true, "--set-as-default")]
    [InlineData("containerd", "containerd-v3.input.toml", "config.toml", false, "--enable-cdi")]
    [InlineData("crio", "crio.input.conf", "crio.conf", true, "--set-as-default")]
    [InlineData("crio", "crio.input.conf", "crio.conf", false, "--set-as-default")]
    [InlineData("containerd", "user:# my containerd\nversion = 2\n\n[plugins]\n", "config.toml", true, "")]
    [InlineData("containerd", "user:# only a version\nversion = 2\n", "config.toml", true, "--set-as-default")]
    [InlineData("containerd", "user:version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  default_runtime_name = \"runc\" # ours\n", "config.toml", false, "--set-as-default")]
    public void Unconfigure_with_only_the_paths_gives_back_the_original_bytes_and_leaves_nothing(string runtime, string fixture, string name, bool dropIn, string extra)
    {
        var text = fixture.StartsWith("user:") ? fixture[5..] : EngineFixtures.Read(fixture);
        using var dir = new TempDir();
        var cfg = dir.Write(name, text);
        string[] paths = ["--runtime", runtime, "--config", cfg, "--drop-in-config", dropIn ? dir.File("conf.d/99-nvidia.toml") : ""];
        Ctk(["configure", .. paths, .. extra.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.True(File.ReadAllText(cfg) != text || File.Exists(dir.File("conf.d/99-nvidia.toml")), "configure should have changed something");
        Ctk(["unconfigure", .. paths]);
        Assert.Equal(text, File.ReadAllText(cfg));
        Assert.Equal([cfg], Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_file_edited_after_configure_is_undone_key_by_key_keeping_the_users_empty_tables_and_version()
    {
        using var dir = new TempDir();
        var cfg = dir.Write("config.toml", "# my containerd\nversion = 2\n\n[plugins]\n");
        var dropIn = dir.File("conf.d/99-nvidia.toml");
        Ctk("configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dropIn);
        File.AppendAllText(cfg, "# edited later\n");
        Ctk("unconfigure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dropIn);
        Assert.Equal("# my containerd\nversion = 2\n\n[plugins]\n# edited later\n", File.ReadAllText(cfg));
        Assert.False(File.Exists(dropIn));
    }

    [Fact]
    public void A_symlinked_daemon_json_stays_a_link_and_its_target_is_edited_and_restored()
    {
        using var dir = new TempDir();
        var target = dir.Write("real/daemon.json", EngineFixtures.Read("docker-daemon.input.json"));
        var link = dir.File("daemon.json");
        File.CreateSymbolicLink(link, target);
        var stderr = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--config", link], new Log(stderr, LogLevel.Info), TextWriter.Null);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Contains("\"nvidia\"", File.ReadAllText(target));
        Assert.Contains($"INFO: {link} is a symbolic link: editing its target {target}", stderr.ToString());
        Assert.True(File.Exists(target + ".gantry.bak"));
        Ctk("unconfigure", "--config", link);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal(EngineFixtures.Read("docker-daemon.input.json"), File.ReadAllText(target));
        Assert.False(File.Exists(target + ".gantry.bak"));
    }

    [Fact]
    public void Containerd_v2_writes_a_drop_in_that_inherits_runc_options_and_imports_it()
    {
        var (dir, cfg) = Setup("containerd-v2.input.toml", "config.toml");
        using var _ = dir;
        var dropIn = dir.File("conf.d/99-nvidia.toml");
        Ctk("configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dropIn, "--set-as-default", "--cdi.enabled");
        EngineFixtures.Verify("containerd-v2.dropin.toml", File.ReadAllText(dropIn));
        EngineFixtures.Verify("containerd-v2.toplevel.toml", File.ReadAllText(cfg).Replace(dir.Path, "/DIR"));
    }

    [Fact]
    public void Containerd_edits_in_place_when_the_drop_in_is_empty_keeping_comments()
    {
        var (dir, cfg) = Setup("containerd-v2.input.toml", "config.toml");
        using var _ = dir;
        Ctk("configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", "", "--set-as-default", "--enable-cdi");
        EngineFixtures.Verify("containerd-v2.inplace.toml", File.ReadAllText(cfg));
    }

    [Fact]
    public void Containerd_v1_is_edited_in_place_with_options_Runtime()
    {
        var (dir, cfg) = Setup("containerd-v1.input.toml", "config.toml");
        using var _ = dir;
        Ctk("configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dir.File("conf.d/99-nvidia.toml"));
        EngineFixtures.Verify("containerd-v1.inplace.toml", File.ReadAllText(cfg));
    }

    [Fact]
    public void Containerd_v3_uses_the_cri_runtime_plugin_and_inherits_the_default_runtime()
    {
        var (dir, cfg) = Setup("containerd-v3.input.toml", "config.toml");
        using var _ = dir;
        var dropIn = dir.File("conf.d/99-nvidia.toml");
        Ctk("configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dropIn);
        EngineFixtures.Verify("containerd-v3.dropin.toml", File.ReadAllText(dropIn));
    }

    [Fact]
    public void A_missing_containerd_config_gets_the_originals_drop_in_and_imports()
    {
        using var dir = new TempDir();
        var dropIn = dir.File("conf.d/99-nvidia.toml");
        Ctk("configure", "--runtime", "containerd", "--config", dir.File("config.toml"), "--drop-in-config", dropIn);
        Assert.Equal("""
            version = 2

            [plugins]

              [plugins."io.containerd.grpc.v1.cri"]

                [plugins."io.containerd.grpc.v1.cri".containerd]

                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
                      privileged_without_host_devices = false
                      runtime_engine = ""
                      runtime_root = ""
                      runtime_type = "io.containerd.runc.v2"

                      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
                        BinaryName = "/usr/bin/nvidia-container-runtime"

            """, File.ReadAllText(dropIn));
        Assert.Equal($"imports = [\"{dir.File("conf.d")}/*.toml\"]\nversion = 2\n", File.ReadAllText(dir.File("config.toml")));
    }

    [Fact]
    public void Crio_writes_a_drop_in_copying_the_default_runtime()
    {
        var (dir, cfg) = Setup("crio.input.conf", "crio.conf");
        using var _ = dir;
        var dropIn = dir.File("crio.conf.d/99-nvidia.toml");
        Ctk("configure", "--runtime", "crio", "--config", cfg, "--drop-in-config", dropIn, "--set-as-default");
        EngineFixtures.Verify("crio.dropin.toml", File.ReadAllText(dropIn));
        Assert.Equal(EngineFixtures.Read("crio.input.conf"), File.ReadAllText(cfg));
    }

    [Fact]
    public void Dry_run_prints_and_writes_nothing()
    {
        var (dir, cfg) = Setup("containerd-v2.input.toml", "config.toml");
        using var _ = dir;
        var files = Snapshot(dir.Path);
        var stdout = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dir.File("conf.d/x.toml"), "--dry-run"], Quiet, stdout);
        Assert.Equal(files, Snapshot(dir.Path));
        Assert.Contains("BinaryName = \"/usr/bin/nvidia-container-runtime\"", stdout.ToString());
        Assert.Contains("imports = [", stdout.ToString());
    }

    [Theory]
    [InlineData("containerd", "containerd-v2.input.toml", "config.toml", "/etc/containerd/conf.d/99-nvidia.toml", "imports it")]
    [InlineData("crio", "crio.input.conf", "crio.conf", "/etc/crio/crio.conf.d/99-nvidia.toml", "is only read")]
    public void With_config_the_default_drop_in_under_etc_is_said_and_dry_run_labels_each_document(string runtime, string fixture, string name, string dropIn, string role)
    {
        var (dir, cfg) = Setup(fixture, name);
        using var _ = dir;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--runtime", runtime, "--config", cfg, "--dry-run"], new Log(stderr, LogLevel.Info), stdout);
        Assert.Contains($"INFO: The runtime goes to the default drop-in {dropIn}, also with --config ({cfg} {role}); " +
                        $"--drop-in-config=\"\" edits {cfg} in place, --drop-in-config=PATH writes elsewhere", stderr.ToString());
        Assert.Contains($"INFO: would write {dropIn}:", stderr.ToString());
        Assert.StartsWith($"# {dropIn}\n", stdout.ToString());
        if (runtime == "containerd")
        {
            Assert.Contains($"INFO: would write {cfg}:", stderr.ToString());
            Assert.Contains($"\n# {cfg}\n", stdout.ToString());
        }
        Assert.False(File.Exists(dropIn), "a dry run writes nothing");
    }

    [Fact]
    public void Docker_dry_run_stays_plain_json_and_the_label_goes_to_stderr()
    {
        var (dir, cfg) = Setup("docker-daemon.input.json", "daemon.json");
        using var _ = dir;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--config", cfg, "--dry-run"], new Log(stderr, LogLevel.Info), stdout);
        Assert.StartsWith("{", stdout.ToString());
        Assert.Contains($"INFO: would write {cfg}:", stderr.ToString());
    }

    [Fact]
    public void Every_file_written_is_named_the_backup_too()
    {
        var (dir, cfg) = Setup("containerd-v2.input.toml", "config.toml");
        using var _ = dir;
        var dropIn = dir.File("conf.d/99-nvidia.toml");
        var stderr = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--runtime", "containerd", "--config", cfg, "--drop-in-config", dropIn], new Log(stderr, LogLevel.Info), TextWriter.Null);
        Assert.Contains($"INFO: Wrote updated config to {dropIn}", stderr.ToString());
        Assert.Contains($"INFO: Wrote updated config to {cfg}", stderr.ToString());
        Assert.Contains($"INFO: Kept the original {cfg} as {cfg}.gantry.bak", stderr.ToString());
        Assert.DoesNotContain("default drop-in", stderr.ToString());
    }

    [Fact]
    public void Configure_help_names_the_drop_in_defaults_that_hold_with_config()
    {
        var stdout = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--help"], Quiet, stdout);
        Assert.Contains("containerd /etc/containerd/conf.d/99-nvidia.toml, crio /etc/crio/crio.conf.d/99-nvidia.toml, also when --config is given", stdout.ToString());
        Assert.Contains("crio: --config is only read", stdout.ToString());
    }

    [Theory]
    [InlineData("daemon.json", "docker", "{\n  \"a\": 1,\n  \"b\": \n}\n", "daemon.json:4:1: invalid JSON")]
    [InlineData("config.toml", "containerd", "version = 2\n[plugins\n", "config.toml:2:9: invalid TOML")]
    public void Malformed_input_is_one_error_naming_file_and_position_and_nothing_is_written(string name, string runtime, string text, string where)
    {
        using var dir = new TempDir();
        var cfg = dir.Write(name, text);
        var e = Assert.Throws<GantryException>(() => Ctk("configure", "--runtime", runtime, "--config", cfg, "--drop-in-config", runtime == "docker" ? "" : dir.File("d/x.toml")));
        Assert.Contains(where, e.Message);
        Assert.Equal(text, File.ReadAllText(cfg));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void A_read_only_target_is_refused_and_left_untouched()
    {
        var (dir, cfg) = Setup("docker-daemon.input.json", "daemon.json");
        using var _ = dir;
        File.SetUnixFileMode(cfg, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        var e = Assert.Throws<GantryException>(() => Ctk("configure", "--config", cfg));
        Assert.Contains("read-only", e.Message);
        Assert.Equal(EngineFixtures.Read("docker-daemon.input.json"), File.ReadAllText(cfg));
        Assert.False(File.Exists(cfg + ".gantry.bak"));
    }

    [Theory]
    [InlineData("docker", "docker-daemon.input.json", "daemon.json")]
    [InlineData("containerd", "containerd-v2.input.toml", "config.toml")]
    [InlineData("crio", "crio.input.conf", "crio.conf")]
    public void An_immutable_target_is_one_error_naming_it_and_leaves_no_backup(string runtime, string fixture, string name)
    {
        var (dir, cfg) = Setup(fixture, name);
        using var _ = dir;
        using var immutable = Support.Immutable.TrySet(cfg);
        if (immutable is null) return; // chattr +i is not available here
        var e = Assert.Throws<GantryException>(() => Ctk("configure", "--runtime", runtime, "--config", cfg, "--drop-in-config", "", "--set-as-default"));
        Assert.Equal($"cannot write {cfg}: {cfg} is immutable (chattr +i); remove the attribute with chattr -i to change it; the file was not changed", e.Message);
        Assert.Equal(EngineFixtures.Read(fixture), File.ReadAllText(cfg));
        Assert.Equal([cfg], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Docker_rejects_a_drop_in_and_unknown_runtimes_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => Ctk("configure", "--drop-in-config", "/etc/x.json"));
        Assert.Equal("unrecognized runtime 'podman'", Assert.Throws<UsageException>(() => Ctk("configure", "--runtime", "podman")).Message);
    }

    [Fact]
    public void Oci_hook_mode_prints_the_hook_json()
    {
        var stdout = new StringWriter();
        RuntimeConfigureCommand.Run(["configure", "--runtime", "crio", "--config-mode", "oci-hook"], Quiet, stdout);
        Assert.Contains("\"path\": \"/usr/bin/nvidia-container-runtime-hook\"", stdout.ToString());
        Assert.Contains("\"stages\": [\n    \"prestart\"\n  ]", stdout.ToString());
    }

    static Dictionary<string, string> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);
}

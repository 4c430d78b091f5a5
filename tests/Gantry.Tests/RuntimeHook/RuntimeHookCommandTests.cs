using System.Text;
using Gantry.ContainerCli;
using Gantry.Host;
using Gantry.RuntimeHook;
using Gantry.Tests.Config;

namespace Gantry.Tests.RuntimeHook;

/// <summary>Records the exec instead of doing it; only the listed paths are executables.</summary>
internal sealed class RecordingHookSyscalls(params string[] executables) : IHookSyscalls
{
    public (string Path, string[] Argv, string[] Env)? Executed { get; private set; }
    public bool IsExecutableFile(string path) => executables.Contains(path);
    public bool Exists(string path) => false;
    public int Exec(string path, string[] argv, string[] envp) { Executed = (path, argv, envp); return -Errno.ENOENT; }
    public bool IsThisExecutable(string path) => path == ThisExecutable;
    public string? ThisExecutable { get; init; }
    public string[]? Environment { get; private set; }
    public void ReplaceEnvironment(string[] envp) => Environment = envp;
}

// The hook in-process: state on a fake stdin, a real bundle and config.toml in a temp dir, the exec recorded.
public sealed class RuntimeHookCommandTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string _ownDir;

    public RuntimeHookCommandTests()
    {
        _ownDir = _dir.File("bin");
        Bundle("bundle", "NVIDIA_VISIBLE_DEVICES=1");
        _dir.Write("config.toml", "[nvidia-container-cli]\nroot = \"/sim\"\nldconfig = \"@/sbin/ldconfig\"\nenvironment = [\"EXTRA=1\"]\n");
    }

    public void Dispose() => _dir.Dispose();

    string Bundle(string name, params string[] env)
    {
        var quoted = string.Join(",", env.Select(e => $"\"{e}\""));
        _dir.Write($"{name}/config.json", $$$"""{"ociVersion":"1.0.2-dev","process":{"env":[{{{quoted}}}]},"root":{"path":"rootfs"}}""");
        return _dir.File(name);
    }

    (int Code, RecordingHookSyscalls Os) Run(string[] args, string? state = null, string? configPath = "config.toml", params string[] executables) =>
        Run(args, state, configPath, null, executables);

    (int Code, RecordingHookSyscalls Os) Run(string[] args, string? state, string? configPath, string? thisExecutable, params string[] executables)
    {
        var os = new RecordingHookSyscalls(executables.Length > 0 ? executables : [Path.Combine(_ownDir, "nvidia-container-cli")]) { ThisExecutable = thisExecutable };
        var env = new List<KeyValuePair<string, string>> { new("PATH", "/usr/bin:/bin"), new("XDG_CONFIG_HOME", _dir.File("xdg")) };
        if (configPath is not null) env.Add(new("NVIDIA_CTK_CONFIG_FILE_PATH", _dir.File(configPath)));
        state ??= $$"""{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":777,"bundle":"{{_dir.File("bundle")}}"}""";
        var process = new HookProcess(os, () => new MemoryStream(Encoding.UTF8.GetBytes(state)), env, _ownDir) { InProcessCli = ContainerCliCommand.Run };
        return (RuntimeHookCommand.Run("nvidia-container-runtime-hook", args, process), os);
    }

    [Fact]
    public void Prestart_execs_the_cli_beside_it_with_the_request_and_the_root_prefixed_path()
    {
        var (code, os) = Run(["prestart"]);
        Assert.Equal(1, code); // the recorded exec "fails", so the hook reports it
        var (path, argv, env) = os.Executed!.Value;
        var cli = Path.Combine(_ownDir, "nvidia-container-cli");
        Assert.Equal(cli, path);
        Assert.Equal([cli, "--root=/sim", "--load-kmods", "configure", "--cuda-compat-mode=ldconfig", "--ldconfig=@/sbin/ldconfig",
            "--device=1", "--compute", "--utility", "--pid=777", _dir.File("bundle/rootfs")], argv);
        Assert.Contains("PATH=/sim/usr/bin:/sim/bin:/sim/usr/local/sbin:/sim/usr/local/bin:/sim/usr/sbin:/sim/sbin:/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin", env);
        Assert.Equal("EXTRA=1", env[^1]);
        Assert.DoesNotContain(env, e => e == "PATH=/usr/bin:/bin");
    }

    // The CLI beside the hook is this program: it runs here, with the environment exec would have given it. The
    // simulated root /sim does not exist, so the CLI itself fails (exit 1) without anything being exec'd.
    [Fact]
    public void A_cli_that_is_this_program_runs_in_process_with_the_exec_environment()
    {
        var cli = Path.Combine(_ownDir, "nvidia-container-cli");
        var (code, os) = Run(["prestart"], null, "config.toml", cli);
        Assert.Equal(1, code);
        Assert.Null(os.Executed);
        var env = os.Environment!;
        Assert.Contains("PATH=/sim/usr/bin:/sim/bin:/sim/usr/local/sbin:/sim/usr/local/bin:/sim/usr/sbin:/sim/sbin:/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin", env);
        Assert.Equal("EXTRA=1", env[^1]);
        Assert.DoesNotContain(env, e => e == "PATH=/usr/bin:/bin");
    }

    [Fact]
    public void A_cli_on_the_search_path_comes_before_the_one_beside_the_hook()
    {
        var (_, os) = Run(["prestart"], executables: ["/sim/usr/bin/nvidia-container-cli", "/bin/nvidia-container-cli", Path.Combine(_ownDir, "nvidia-container-cli")]);
        Assert.Equal("/sim/usr/bin/nvidia-container-cli", os.Executed!.Value.Path);
    }

    [Fact]
    public void A_configured_cli_path_is_used_as_is_and_path_is_left_alone()
    {
        _dir.Write("custom.toml", "[nvidia-container-cli]\npath = \"/opt/cli\"\nldconfig = \"@/sbin/ldconfig\"\n");
        var (_, os) = Run(["-config", _dir.File("custom.toml"), "prestart"], configPath: null);
        Assert.Equal("/opt/cli", os.Executed!.Value.Path);
        Assert.Contains("PATH=/usr/bin:/bin", os.Executed!.Value.Env);
    }

    [Fact]
    public void A_container_without_gpus_is_left_alone_with_exit_code_0()
    {
        Bundle("plain", "PATH=/bin");
        var (code, os) = Run(["prestart"], $$"""{"pid":5,"bundle":"{{_dir.File("plain")}}"}""");
        Assert.Equal(0, code);
        Assert.Null(os.Executed);
    }

    [Fact]
    public void The_pre_1706_bundlePath_field_is_accepted()
    {
        var (_, os) = Run(["prestart"], $$"""{"pid":9,"bundlePath":"{{_dir.File("bundle")}}"}""");
        Assert.Contains("--pid=9", os.Executed!.Value.Argv);
    }

    [Theory]
    [InlineData("missing.toml")]
    public void A_config_file_named_by_env_or_flag_must_exist(string missing)
    {
        Assert.Equal(1, Run(["prestart"], configPath: missing).Code);
        Assert.Equal(1, Run(["-config", _dir.File(missing), "prestart"], configPath: null).Code);
        // Without either, a missing default file means the defaults (and the CLI is still found beside the hook).
        var (code, os) = Run(["prestart"], configPath: null);
        Assert.Equal(1, code);
        Assert.Equal("--load-kmods", os.Executed!.Value.Argv[1]);
    }

    [Theory]
    [InlineData(new string[0], 2)]
    [InlineData(new[] { "start" }, 2)]
    [InlineData(new[] { "-unknown", "prestart" }, 2)]
    [InlineData(new[] { "-debug", "false", "prestart" }, 2)]
    [InlineData(new[] { "poststart" }, 0)]
    [InlineData(new[] { "poststop" }, 0)]
    [InlineData(new[] { "--version" }, 0)]
    [InlineData(new[] { "-h" }, 0)]
    public void Exit_codes_follow_the_original(string[] args, int expected) =>
        Assert.Equal(expected, Run(args).Code);

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"pid":1}""")]
    [InlineData("""{"pid":1,"bundle":"/nonexistent-bundle"}""")]
    public void Bad_state_or_bundle_fails_with_exit_code_1_and_execs_nothing(string state)
    {
        var (code, os) = Run(["prestart"], state);
        Assert.Equal(1, code);
        Assert.Null(os.Executed);
    }

    [Fact]
    public void The_debug_flag_reaches_the_cli()
    {
        var (_, os) = Run(["-debug", "prestart"]);
        Assert.Contains("--debug=/dev/stderr", os.Executed!.Value.Argv);
    }
}

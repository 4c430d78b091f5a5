using Gantry.Host;
using Gantry.Tests.Support;
using ProcessResult = Gantry.Host.ProcessResult;
using ProcessRunner = Gantry.Host.ProcessRunner;

namespace Gantry.Tests.Integration;

// The published nvidia-container-runtime-hook (and its nvidia-container-toolkit name) as runc runs it: state on
// stdin, a bundle on disk, config.toml from NVIDIA_CTK_CONFIG_FILE_PATH; a recording stand-in CLI shows the exec.
public sealed class RuntimeHookTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly RecordingCli _cli;

    public RuntimeHookTests()
    {
        _cli = new RecordingCli(_dir["stand-in"], exitCode: 7);
        Bundle("NVIDIA_VISIBLE_DEVICES=0,1", "NVIDIA_DRIVER_CAPABILITIES=utility", "LD_PRELOAD=/evil.so");
        Config("");
    }

    public void Dispose() => _dir.Dispose();

    void Bundle(params string[] env)
    {
        Directory.CreateDirectory(_dir["bundle/rootfs"]);
        var quoted = string.Join(",", env.Select(e => $"\"{e}\""));
        File.WriteAllText(_dir["bundle/config.json"], $$$"""{"ociVersion":"1.0.2-dev","process":{"env":[{{{quoted}}}]},"root":{"path":"rootfs"}}""");
    }

    void Config(string extra) => File.WriteAllText(_dir["config.toml"],
        $"{extra}\n[nvidia-container-cli]\npath = \"{_cli.Path}\"\nroot = \"/drv\"\nldconfig = \"@/sbin/ldconfig\"\nenvironment = [\"CLI_EXTRA=yes\"]\n");

    ProcessResult Hook(string name, params string[] args)
    {
        // Only prestart reads the state: writing it to a hook that exits without reading would race with EPIPE.
        var state = args.Contains("prestart") && !args.Contains("-bogus")
            ? $$"""{"ociVersion":"1.0.2","id":"x","status":"creating","pid":1234,"bundle":"{{_dir["bundle"]}}"}""" : null;
        var quoted = string.Join(" ", args.Select(a => $"'{a}'"));
        return ProcessRunner.Run("sh", ["-c", $"cd /; NVIDIA_CTK_CONFIG_FILE_PATH='{_dir["config.toml"]}' exec '{Path.Combine(TestEnvironment.BinDir, name)}' {quoted}"], state);
    }

    [BinaryTheory]
    [InlineData("nvidia-container-runtime-hook")]
    [InlineData("nvidia-container-toolkit")]
    public void Prestart_execs_the_cli_with_the_configure_command_line_and_its_exit_code(string name)
    {
        var r = Hook(name, "prestart");
        Assert.True(r.ExitCode == 7, r.Combined);
        Assert.Equal($"{_cli.Path} --root=/drv --load-kmods configure --cuda-compat-mode=ldconfig --ldconfig=@/sbin/ldconfig " +
                     $"--device=0,1 --utility --pid=1234 {_dir["bundle/rootfs"]}", _cli.LastArgv());
    }

    [BinaryFact]
    public void The_cli_gets_the_hook_environment_plus_the_configured_entries_never_the_container_env()
    {
        Assert.Equal(7, Hook("nvidia-container-runtime-hook", "prestart").ExitCode);
        var env = _cli.LastEnv();
        Assert.Contains("CLI_EXTRA=yes", env);
        Assert.Contains($"NVIDIA_CTK_CONFIG_FILE_PATH={_dir["config.toml"]}", env);
        Assert.DoesNotContain(env, e => e.StartsWith("LD_PRELOAD=", StringComparison.Ordinal) || e.StartsWith("NVIDIA_VISIBLE_DEVICES=", StringComparison.Ordinal));
    }

    [BinaryFact]
    public void Modes_other_than_legacy_refuse_with_the_original_message_and_exit_code_1()
    {
        Config("[nvidia-container-runtime]\nmode = \"cdi\"");
        var r = Hook("nvidia-container-runtime-hook", "prestart");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported. " +
                        "Please use the NVIDIA Container Runtime (e.g. specify the --runtime=nvidia flag) instead", r.Stderr);
        Assert.Null(_cli.LastArgv());
    }

    [BinaryFact]
    public void Bad_capabilities_fail_with_one_line_and_no_exec()
    {
        Bundle("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,warp");
        var r = Hook("nvidia-container-runtime-hook", "prestart");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("nvidia-container-runtime-hook: error: unsupported capabilities found in 'compute,warp': warp " +
                     "(allowed 'compat32,compute,display,graphics,ngx,utility,video')", r.Stderr.Trim());
        Assert.Null(_cli.LastArgv());
    }

    [BinaryFact]
    public void Usage_errors_exit_2_and_the_no_op_commands_exit_0()
    {
        var none = Hook("nvidia-container-runtime-hook");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("Usage: nvidia-container-runtime-hook [flags] COMMAND", none.Stderr);
        var bad = Hook("nvidia-container-runtime-hook", "-bogus", "prestart");
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("nvidia-container-runtime-hook: flag provided but not defined: -bogus", bad.Stderr);
        Assert.Equal(0, Hook("nvidia-container-runtime-hook", "poststop").ExitCode);
        var version = Hook("nvidia-container-toolkit", "-version");
        Assert.Equal(0, version.ExitCode);
        Assert.StartsWith("NVIDIA Container Runtime Hook version ", version.Stdout);
    }
}

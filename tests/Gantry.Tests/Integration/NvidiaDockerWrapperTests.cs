using System.Diagnostics;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// out/nvidia-docker (gantry under that name) with NV_DOCKER pointing at a stand-in docker script that answers
// `inspect` with the labels it is given and otherwise prints the argv it was exec'd with.
public sealed class NvidiaDockerWrapperTests : IDisposable
{
    readonly TempDir _dir = Sim.Host("--gpus", "2");
    string FakeDocker => _dir["docker"];
    static string Wrapper => Path.Combine(TestEnvironment.BinDir, "nvidia-docker");

    public NvidiaDockerWrapperTests()
    {
        File.WriteAllText(FakeDocker, """
            #!/bin/sh
            case "$1" in
              inspect) [ -n "$FAKE_LABELS" ] || { echo "Error: No such image: $4" >&2; exit 1; }; printf '%b\n' "$FAKE_LABELS"; exit 0;;
              volume) [ -n "$FAKE_VOLUME" ]; exit $?;;
              pull) echo "Error response from daemon: pull access denied for $2" >&2; exit 1;;
            esac
            echo "ARGV: $*"
            """);
        File.SetUnixFileMode(FakeDocker, (UnixFileMode)0b111_101_101);
    }

    public void Dispose() => _dir.Dispose();

    ProcessResult Run(Dictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(Wrapper) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in new[] { "NV_GPU", "NV_HOST", "DOCKER_HOST", "NV_DOCKER_MODE", "NV_DOCKER_CONFIG" }) psi.Environment.Remove(v);
        psi.Environment["NV_DOCKER"] = FakeDocker;
        psi.Environment["NV_DRIVER_ROOT"] = _dir["host"];
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000));
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    string Devices(params int[] gpus) =>
        string.Join(' ', new[] { "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools" }.Concat(gpus.Select(g => $"nvidia{g}"))
            .Select(d => $"--device={_dir["host"]}/dev/{d}:/dev/{d}"));

    [BinaryFact]
    public void A_labelled_image_gets_devices_and_the_driver_volume_before_the_image()
    {
        var r = Run(new() { ["FAKE_LABELS"] = "nvidia_driver\\n9.0" }, "run", "--rm", "-e", "A=1", "cuda:9.0", "nvidia-smi");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal($"ARGV: run --rm -e A=1 {Devices(0, 1)} --volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda:9.0 nvidia-smi\n", r.Stdout);
    }

    [BinaryFact]
    public void NV_GPU_picks_the_GPUs_and_an_existing_volume_needs_no_driver()
    {
        var r = Run(new() { ["FAKE_LABELS"] = "nvidia_driver\\n", ["FAKE_VOLUME"] = "1", ["NV_GPU"] = "1" }, "create", "cuda");
        Assert.Equal($"ARGV: create {Devices(1)} --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro cuda\n", r.Stdout);
    }

    [BinaryFact]
    public void Unlabelled_images_and_other_commands_go_to_docker_unchanged()
    {
        Assert.Equal("ARGV: run --rm busybox true\n", Run(new() { ["FAKE_LABELS"] = "\\n" }, "run", "--rm", "busybox", "true").Stdout);
        Assert.Equal("ARGV: ps -a\n", Run(new(), "ps", "-a").Stdout);
        var version = Run(new(), "version");
        Assert.StartsWith("NVIDIA Docker: 1.0.1", version.Stdout);
        Assert.EndsWith("\n\nARGV: version\n", version.Stdout);
    }

    [BinaryTheory]
    [InlineData("FAKE_LABELS", "nvidia_driver\\n99.0", "unsupported CUDA version: driver 12.4 < image 99.0")]
    [InlineData("NV_GPU", "3", "invalid device: 3")]
    [InlineData("NV_HOST", "nohost", "invalid remote host URI")]
    [InlineData("NV_DOCKER_MODE", "7", "invalid nvidia-docker mode '7'")]
    public void Failures_are_one_log_line_and_exit_1(string variable, string value, string message)
    {
        var env = new Dictionary<string, string> { ["FAKE_LABELS"] = "nvidia_driver\\n9.0", [variable] = value };
        var r = Run(env, "run", "cuda");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Matches($@"^{Regex(Wrapper)} \| \d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d Error: {Regex(message)}", r.Stderr);
    }

    [BinaryFact]
    public void A_missing_image_that_cannot_be_pulled_fails_with_dockers_message()
    {
        var r = Run(new(), "run", "nosuch");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Error: Error response from daemon: pull access denied for nosuch", r.Stderr);
    }

    [BinaryFact]
    public void Mode_2_adds_the_runtime_and_the_visible_devices()
    {
        var r = Run(new() { ["NV_DOCKER_MODE"] = "2", ["NV_GPU"] = "0 1" }, "run", "--rm", "cuda");
        Assert.Equal("ARGV: run --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=0,1 --rm cuda\n", r.Stdout);
    }

    [PluginFact]
    public void Remote_mode_asks_the_plugin_for_the_arguments()
    {
        using var plugin = new PluginProcess(_dir["host"], _dir["volumes"], _dir["sock"]);
        var env = new Dictionary<string, string>
        {
            ["FAKE_LABELS"] = "nvidia_driver\\n9.0", ["NV_HOST"] = $"127.0.0.1:{plugin.Rest.Port}", ["DOCKER_HOST"] = "tcp://127.0.0.1:2375", ["NV_GPU"] = "GPU-",
        };
        var r = Run(env, "run", "cuda");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal($"ARGV: run --volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro {Devices(0)} cuda\n", r.Stdout);
        env["NV_GPU"] = "5";
        var bad = Run(env, "run", "cuda");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("Error: invalid device: 5", bad.Stderr);
        env["FAKE_LABELS"] = "nvidia_driver\\n99.1";
        Assert.Contains("Error: unsupported CUDA version: driver 12.4 < image 99.1", Run(env, "run", "cuda").Stderr);
        plugin.Stop();
    }

    static string Regex(string s) => System.Text.RegularExpressions.Regex.Escape(s);
}

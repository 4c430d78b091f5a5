using System.Text.RegularExpressions;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// dockerd → containerd → runc → nvidia-container-runtime-hook → (recording stand-in) nvidia-container-cli: what
// each --gpus form and the runtime's legacy mode make the hook exec. The other part runs the real CLI.
public sealed partial class DockerGpusTests(GpuDockerHost host) : IClassFixture<GpuDockerHost>
{
    GpuDockerHost Host => host;

    [GeneratedRegex(@" --pid=[1-9][0-9]* /\S+$")]
    private static partial Regex PidAndRootfs();

    string ConfigureFlagsOf(params string[] runArgs)
    {
        host.UseCli(host.StandIn.Path);
        host.StandIn.Forget();
        var r = host.Run([.. runArgs, GpuDockerHost.Image, "true"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        var argv = host.StandIn.LastArgv();
        Assert.NotNull(argv);
        Assert.Matches(PidAndRootfs(), argv);
        var prefix = $"{host.StandIn.Path} --root={host.Sim.HostRoot} --load-kmods configure ";
        Assert.StartsWith(prefix, argv);
        return PidAndRootfs().Replace(argv[prefix.Length..], "");
    }

    [EngineTheory("dockerd")]
    [InlineData("all", "--device=all --compute --utility")]
    [InlineData("2", "--device=0,1 --compute --utility")]
    [InlineData("\"device=1\"", "--device=1 --compute --utility")]
    [InlineData("all,\"capabilities=utility\"", "--device=all --utility")]
    [InlineData("\"device=0,1\",\"capabilities=compute,video\"", "--device=0,1 --compute --video")]
    public void Docker_gpus_requests_reach_the_cli_through_the_hook(string gpus, string expected)
    {
        var flags = ConfigureFlagsOf("--gpus", gpus);
        Assert.Equal($"--cuda-compat-mode=ldconfig --ldconfig={LdconfigFlag} {expected}", flags);
    }

    [EngineFact("dockerd")]
    public void The_runtime_in_legacy_mode_runs_the_same_hook() =>
        Assert.Equal($"--cuda-compat-mode=ldconfig --ldconfig={LdconfigFlag} --device=1 --compute --utility",
            ConfigureFlagsOf("--runtime=nvidia", "-e", "NVIDIA_VISIBLE_DEVICES=1"));

    [EngineFact("dockerd")]
    public void A_container_without_gpus_does_not_reach_the_cli()
    {
        host.UseCli(host.StandIn.Path);
        host.StandIn.Forget();
        var r = host.Run("--runtime=nvidia", GpuDockerHost.Image, "true");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Null(host.StandIn.LastArgv());
    }

    [EngineFact("dockerd")]
    public void A_failing_cli_fails_docker_run_with_its_message()
    {
        var failing = new RecordingCli(host.Sim.Dir["failing"], exitCode: 1);
        host.UseCli(failing.Path);
        var r = host.Run("--gpus", "all", GpuDockerHost.Image, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error running hook", r.Stderr);
    }

    static string LdconfigFlag => File.Exists("/sbin/ldconfig.real") ? "@/sbin/ldconfig.real" : "@/sbin/ldconfig";
}

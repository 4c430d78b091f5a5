using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// `gantry doctor --run` against the private dockerd: both Docker routes it finds configured (the runtime in
// daemon.json, the hook on dockerd's PATH) start a container, and the simulated GPUs arrive through each.
public sealed partial class DockerGpusTests
{
    [EngineFact("dockerd")]
    public void Doctor_run_starts_a_container_through_each_docker_route_and_a_gpu_arrives()
    {
        Host.UseCli(null);
        var daemonJson = Host.Sim.Dir["doctor/daemon.json"];
        Directory.CreateDirectory(Path.GetDirectoryName(daemonJson)!);
        var runtime = Host.Sim.Dir["nvidia-container-runtime"];
        File.WriteAllText(daemonJson, "{\"runtimes\": {\"nvidia\": {\"path\": \"" + runtime + "\"}}}");
        var r = TestEnvironment.Run("env", [$"DOCKER_HOST=unix://{Host.Docker!.Socket}", TestEnvironment.Gantry, "doctor", "--run",
            $"--image={GpuDockerHost.Image}", $"--driver-root={Host.Sim.HostRoot}", $"--daemon-json={daemonJson}",
            $"--engine-path={TestEnvironment.BinDir}", $"--cdi-spec-dir={Host.Sim.Dir["doctor/no-cdi"]}"]);
        Assert.Contains("docker --runtime=nvidia: a GPU arrived (/dev/nvidia0 /dev/nvidia1)", r.Stdout);
        Assert.Contains("docker --gpus: a GPU arrived (/dev/nvidia0 /dev/nvidia1)", r.Stdout);
        Assert.Contains("2 of 2 route(s) gave a GPU", r.Stdout);
    }
}

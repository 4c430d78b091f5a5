using System.Text.Json.Nodes;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// `gantry doctor` as published: text and JSON, the exit code, --fix's report and --run through a stand-in engine CLI.
public sealed class DoctorCommandTests
{
    /// <summary>A simulated GPU host plus a host root with ldconfig, the runtime, the hook and dockerd on the service PATH.</summary>
    static TempDir Host(string daemonJson)
    {
        var d = Sim.Host("--gpus", "1", $"--nvml-standin={TestEnvironment.NvmlStandIn}");
        foreach (var exe in new[] { "sbin/ldconfig", "usr/bin/nvidia-container-runtime", "usr/bin/dockerd" })
        {
            var path = d[Path.Combine("root", exe)];
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "#!/bin/sh\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
        Directory.CreateDirectory(d["root/etc/docker"]);
        File.WriteAllText(d["root/etc/docker/daemon.json"], daemonJson);
        return d;
    }

    static string[] Roots(TempDir d) => [$"--driver-root={d["host"]}", $"--root={d["root"]}"];

    [BinaryFact]
    public void Json_names_each_problem_with_its_fix_and_the_exit_code_is_1()
    {
        using var d = Host("""{"runtimes": {"nvidia": {"path": "/opt/gone/nvidia-container-runtime"}}}""");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, ["doctor", "--json", .. Roots(d)]);
        Assert.True(r.ExitCode == 1, r.Combined);
        var report = JsonNode.Parse(r.Stdout)!.AsObject();
        var checks = report["checks"]!.AsArray().Select(c => c!.AsObject()).ToList();
        var runtime = checks.Single(c => (string)c["name"]! == "docker-runtime");
        Assert.Equal("problem", (string)runtime["status"]!);
        Assert.StartsWith("nvidia-ctk runtime configure --runtime=docker", (string)runtime["fix"]!);
        Assert.True((bool)runtime["fixable"]!);
        var hook = checks.Single(c => (string)c["name"]! == "docker-hook");
        Assert.Contains("could not select device driver", (string)hook["cause"]!);
        Assert.Equal(checks.Count(c => (string)c["status"]! == "problem"), (int)report["problems"]!);
        Assert.Equal("ok", (string)checks.Single(c => (string)c["name"]! == "driver")["status"]!);
    }

    [BinaryFact]
    public void Fix_says_what_it_changed_and_leaves_the_rest_to_the_user()
    {
        using var d = Host("""{"log-level": "warn"}""");
        var r = TestEnvironment.Run(TestEnvironment.Gantry, ["doctor", "--fix", .. Roots(d)]);
        Assert.Contains($"changed  registered runtime nvidia -> nvidia-container-runtime in {d["root/etc/docker/daemon.json"]}", r.Stdout);
        Assert.Matches(@"ok +docker-runtime", r.Stdout);
        // The hook is not linked by --fix: it names the command instead.
        Assert.Matches(@"problem +docker-hook", r.Stdout);
        Assert.Contains("fix:   ln -s ", r.Stdout);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("\"log-level\": \"warn\"", File.ReadAllText(d["root/etc/docker/daemon.json"]));
    }

    [BinaryFact]
    public void Run_starts_a_container_per_configured_route_and_says_whether_a_gpu_arrived()
    {
        using var d = Host("""{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}""");
        var hook = d["root/usr/bin/nvidia-container-runtime-hook"];
        File.WriteAllText(hook, "#!/bin/sh\n");
        File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
        // A stand-in docker CLI: --gpus gives a GPU, --runtime=nvidia fails as a broken runtime would.
        var bin = d["bin"];
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "docker"), """
            #!/bin/sh
            case "$*" in
              *--gpus*) echo /dev/nvidia0; exit 0 ;;
              *--runtime=nvidia*) echo 'docker: Error response from daemon: failed to create task' >&2; exit 125 ;;
              *) exit 1 ;;
            esac
            """);
        File.SetUnixFileMode(Path.Combine(bin, "docker"), (UnixFileMode)0b111_101_101);
        var r = TestEnvironment.Run("env", [$"PATH={bin}:/usr/bin:/bin", TestEnvironment.Gantry, "doctor", "--run", "--image=busybox", .. Roots(d)]);
        Assert.Contains("ok       run                docker --gpus: a GPU arrived (/dev/nvidia0)", r.Stdout);
        Assert.Contains("problem  run                docker --runtime=nvidia: no GPU arrived (exit 125: docker: Error response from daemon: failed to create task)", r.Stdout);
        Assert.Contains("command: docker run --rm --runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all busybox sh -c ls /dev/nvidia[0-9]*", r.Stdout);
        Assert.Contains("1 of 2 route(s) gave a GPU", r.Stdout);
        Assert.Equal(1, r.ExitCode);
    }
}

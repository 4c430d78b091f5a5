using Gantry.Common;
using Gantry.Diagnostics;
using Gantry.Host;
using Gantry.Simulation;
using Gantry.Tests.Simulation;
using Gantry.Tests.Support;

namespace Gantry.Tests.Diagnostics;

// One simulated broken host (or engine configuration) per cause doctor knows, each named with its fix; a healthy
// simulated host gives no problem.
[Collection(NvmlStandIn.Collection)]
public sealed class DoctorTests
{
    [NvmlFact]
    public void A_healthy_simulated_host_gives_no_problem_and_no_warning()
    {
        using var host = new DoctorHost();
        var findings = host.Check();
        Assert.All(findings, f => Assert.True(f.Status == CheckStatus.Ok, $"{f.Status} {f.Check}: {f.Summary} / {f.Cause}"));
        foreach (var check in new[] { "config", "mode", "ldconfig", "rootless", "driver", "nvml", "device-nodes", "dev-char", "persistenced",
                     "docker-runtime", "docker-hook", "swarm-resource", "cdi-specs", "kernel-namespaces", "kernel-seccomp", "kernel-openat2", "kernel-mount-api" })
            Assert.Contains(findings, f => f.Check == check);
    }

    [NvmlFact]
    public void A_runtime_missing_from_daemon_json_is_named_and_fix_registers_it()
    {
        using var host = new DoctorHost();
        host.Write("/etc/docker/daemon.json", """{"log-level": "warn"}""");
        var f = host.Failing("docker-runtime");
        Assert.Contains("unknown or invalid runtime name: nvidia", f.Cause);
        Assert.Equal($"nvidia-ctk runtime configure --runtime=docker --config={host.DaemonJson} && systemctl restart docker", f.Fix);
        var changes = DoctorRepairs.Apply([f], Log.Silent);
        Assert.Contains(changes, c => c.StartsWith("registered runtime nvidia -> nvidia-container-runtime", StringComparison.Ordinal));
        Assert.Contains("\"log-level\": \"warn\"", File.ReadAllText(host.DaemonJson));
        Assert.DoesNotContain(host.Check(), x => x.Check == "docker-runtime" && x.Status != CheckStatus.Ok);
    }

    [NvmlFact]
    public void A_runtime_registered_with_a_wrong_path_is_named()
    {
        using var host = new DoctorHost();
        host.Write("/etc/docker/daemon.json", """{"runtimes": {"nvidia": {"path": "/opt/old/nvidia-container-runtime"}}}""");
        var f = host.Failing("docker-runtime");
        Assert.Contains("/opt/old/nvidia-container-runtime", f.Summary);
        Assert.Contains("executable file not found", f.Cause);
        Assert.StartsWith("nvidia-ctk runtime configure --runtime=docker", f.Fix);
        Assert.IsType<RegisterRuntime>(f.Repair);
    }

    [NvmlFact]
    public void A_hook_missing_from_dockerds_path_is_named_with_the_gpus_error()
    {
        using var host = new DoctorHost();
        // dockerd runs with a PATH of its own that lacks /usr/bin: doctor reads it from the process.
        var proc = Path.Combine(host.Gpu, "proc/4242");
        File.WriteAllText(Path.Combine(proc, "comm").EnsureParent(), "dockerd\n");
        File.WriteAllText(Path.Combine(proc, "status"), "Name:\tdockerd\nUid:\t0\t0\t0\t0\n");
        File.WriteAllText(Path.Combine(proc, "environ"), "HOME=/root\0PATH=/opt/docker/bin:/sbin\0");
        var f = host.Failing("docker-hook");
        Assert.Contains("could not select device driver \"\" with capabilities: [[gpu]]", f.Cause);
        Assert.Contains("dockerd (pid 4242): /opt/docker/bin:/sbin", f.Cause);
        // The link goes where that PATH looks.
        Assert.Matches(@"^ln -s \S+ /sbin/nvidia-container-runtime-hook && systemctl restart docker$", f.Fix);
    }

    [NvmlFact]
    public void A_swarm_kind_that_swarm_resource_does_not_list_is_named()
    {
        using var host = new DoctorHost();
        host.Write("/etc/docker/daemon.json", """
            {"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}, "default-runtime": "nvidia",
             "node-generic-resources": ["NVIDIA-GPU=GPU-0a1b2c3d"]}
            """);
        var f = host.Failing("swarm-resource");
        Assert.Contains("DOCKER_RESOURCE_NVIDIA-GPU", f.Cause);
        Assert.Equal($"nvidia-ctk config --config-file={host.ConfigToml} --in-place --set swarm-resource=DOCKER_RESOURCE_GPU,DOCKER_RESOURCE_NVIDIA-GPU", f.Fix);
        host.Write("/etc/nvidia-container-runtime/config.toml", "swarm-resource = \"DOCKER_RESOURCE_NVIDIA-GPU\"\n[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig\"\n");
        Assert.DoesNotContain(host.Check(), x => x.Check == "swarm-resource" && x.Status != CheckStatus.Ok);
    }

    [NvmlFact]
    public void NVML_that_cannot_be_loaded_is_named()
    {
        using var host = new DoctorHost(new SimulationOptions { WithNvml = false });
        var f = host.Failing("nvml");
        Assert.Contains("could not be used (nvml error: symbol nvmlInit_v2 not found", f.Cause);
        Assert.Contains("libnvidia-ml1", f.Fix);
        foreach (var lib in Directory.GetFiles(Path.Combine(host.Gpu, "usr/lib/x86_64-linux-gnu"), "libnvidia-ml.so*")) File.Delete(lib);
        Assert.Contains("libnvidia-ml.so.1 was not found", host.Failing("nvml").Cause);
    }

    [NvmlFact]
    public void A_missing_device_node_is_named_with_the_command_that_creates_it()
    {
        using var host = new DoctorHost();
        File.Delete(Path.Combine(host.Gpu, "dev/nvidia1"));
        var f = host.Failing("device-nodes");
        Assert.Contains("dev/nvidia1", f.Summary);
        Assert.Equal($"nvidia-ctk system create-dev-char-symlinks --create-all --create-device-nodes --driver-root={host.Gpu}", f.Fix);
    }

    [RootFact]
    public void A_device_node_with_another_drivers_numbers_is_named()
    {
        using var host = new DoctorHost(new SimulationOptions { RealDeviceNodes = true });
        var node = Path.Combine(host.Gpu, "dev/nvidia1");
        File.Delete(node);
        Assert.Equal(0, FileStatus.MakeCharDevice(node, 195, 7, 0b110_110_110));
        var f = host.Failing("device-nodes");
        Assert.Contains("is 195:7, the driver's is 195:1", f.Cause);
        Assert.StartsWith($"rm -f {node} && nvidia-ctk system create-dev-char-symlinks", f.Fix);
    }

    [RootFact]
    public void Missing_dev_char_links_are_named_and_fix_creates_them()
    {
        using var host = new DoctorHost(new SimulationOptions { RealDeviceNodes = true });
        Directory.Delete(host.DevChar, recursive: true);
        var f = host.Failing("dev-char");
        Assert.Contains("Failed to initialize NVML: Unknown Error", f.Cause);
        Assert.Equal($"nvidia-ctk system create-dev-char-symlinks --dev-char-path={host.DevChar} --driver-root={host.Gpu}", f.Fix);
        var changes = DoctorRepairs.Apply([f], Log.Silent);
        Assert.Contains($"created {host.DevChar}/195:0 -> {host.Gpu}/dev/nvidia0", changes);
        Assert.DoesNotContain(host.Check(), x => x.Status != CheckStatus.Ok);
    }

    [NvmlFact]
    public void The_persistence_daemon_off_is_a_warning()
    {
        using var host = new DoctorHost(new SimulationOptions { WithIpc = false });
        var f = host.Failing("persistenced", CheckStatus.Warning);
        Assert.Equal("systemctl enable --now nvidia-persistenced", f.Fix);
    }

    [NvmlFact]
    public void No_spec_is_a_warning_and_a_problem_in_cdi_mode()
    {
        using var host = new DoctorHost();
        File.Delete(host.Spec);
        var f = host.Failing("cdi-specs", CheckStatus.Warning);
        Assert.Equal($"nvidia-ctk cdi generate --driver-root={host.Gpu} --output={host.Spec}", f.Fix);
        host.Write("/etc/nvidia-container-runtime/config.toml", "[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig\"\n[nvidia-container-runtime]\nmode = \"cdi\"\n");
        Assert.Contains("unresolvable CDI devices", host.Failing("cdi-specs").Cause);
    }

    [NvmlFact]
    public void An_invalid_spec_is_named()
    {
        using var host = new DoctorHost();
        File.WriteAllText(host.Spec, "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [{name: \"0\"}]\nbogus: 1\n");
        var f = host.Failing("cdi-specs");
        Assert.Contains("not a valid CDI spec", f.Summary);
        Assert.Equal($"nvidia-ctk cdi generate --driver-root={host.Gpu} --output={host.Spec}", f.Fix);
    }

    [NvmlFact]
    public void A_spec_of_another_driver_version_is_stale_and_fix_regenerates_it()
    {
        using var host = new DoctorHost();
        File.WriteAllText(host.Spec, File.ReadAllText(host.Spec).Replace(".so.550.54.15", ".so.535.104.05"));
        var f = host.Failing("cdi-specs");
        Assert.Contains("stale", f.Summary);
        Assert.Contains("it was made for driver 535.104.05 and driver 550.54.15 is running", f.Cause);
        var changes = DoctorRepairs.Apply([f], Log.Silent);
        Assert.Contains(changes, c => c.StartsWith($"regenerated {host.Spec} for driver 550.54.15", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Check(), x => x.Check == "cdi-specs" && x.Status != CheckStatus.Ok);
    }

    [NvmlFact]
    public void A_spec_naming_files_that_are_gone_is_stale()
    {
        using var host = new DoctorHost();
        File.Delete(host.In("/usr/bin/nvidia-cdi-hook"));
        var f = host.Failing("cdi-specs");
        Assert.Contains($"{host.In("/usr/bin/nvidia-cdi-hook")} does not exist", f.Cause);
    }

    [NvmlFact]
    public void A_device_defined_in_two_spec_directories_is_named()
    {
        using var host = new DoctorHost();
        host.GenerateSpec(host.In("/var/run/cdi/nvidia-old.yaml"));
        var f = host.Failing("cdi-specs");
        Assert.Contains($"defined in both {host.Spec} and {host.In("/var/run/cdi/nvidia-old.yaml")}", f.Summary);
        Assert.Equal($"rm {host.Spec}", f.Fix);
    }

    [NvmlFact]
    public void Two_specs_of_one_directory_defining_the_same_device_are_named()
    {
        using var host = new DoctorHost();
        host.GenerateSpec(host.In("/etc/cdi/nvidia-copy.yaml"));
        var f = host.Failing("cdi-specs");
        Assert.Contains("conflicting device \"nvidia.com/gpu=", f.Cause);
        Assert.Contains("engines offer neither definition", f.Cause);
        Assert.Equal($"rm {host.Spec}", f.Fix);
    }

    [NvmlFact]
    public void An_unparsable_config_toml_is_named()
    {
        using var host = new DoctorHost();
        host.Write("/etc/nvidia-container-runtime/config.toml", "[nvidia-container-cli\nldconfig = 1\n");
        var f = host.Failing("config");
        Assert.Equal($"mv {host.ConfigToml} {host.ConfigToml}.broken && nvidia-ctk config default --output={host.ConfigToml}", f.Fix);
    }

    [NvmlFact]
    public void An_unknown_mode_is_named()
    {
        using var host = new DoctorHost();
        host.Write("/etc/nvidia-container-runtime/config.toml", "[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig\"\n[nvidia-container-runtime]\nmode = \"gpu\"\n");
        var f = host.Failing("mode");
        Assert.Equal($"nvidia-ctk config --config-file={host.ConfigToml} --in-place --set nvidia-container-runtime.mode=auto", f.Fix);
    }

    [NvmlFact]
    public void A_wrong_ldconfig_path_is_named_with_the_one_that_exists()
    {
        using var host = new DoctorHost();
        host.Write("/etc/nvidia-container-runtime/config.toml", "[nvidia-container-cli]\nldconfig = \"@/sbin/ldconfig.real\"\n");
        var f = host.Failing("ldconfig");
        Assert.Equal($"nvidia-ctk config --config-file={host.ConfigToml} --in-place --set nvidia-container-cli.ldconfig=@/sbin/ldconfig", f.Fix);
    }

    [NvmlFact]
    public void A_rootless_engine_without_no_cgroups_is_named()
    {
        using var host = new DoctorHost();
        File.WriteAllText(Path.Combine(host.Gpu, "proc/777/comm").EnsureParent(), "rootlesskit\n");
        var f = host.Failing("rootless");
        Assert.Contains("rootlesskit runs (pid 777)", f.Summary);
        Assert.Equal($"nvidia-ctk config --config-file={host.ConfigToml} --in-place --set nvidia-container-cli.no-cgroups", f.Fix);
    }

    [NvmlFact]
    public void A_kernel_without_what_the_confinement_uses_is_named()
    {
        using var host = new DoctorHost();
        File.Delete(Path.Combine(host.Gpu, "proc/self/ns/pid"));
        File.Delete(Path.Combine(host.Gpu, "proc/sys/kernel/seccomp/actions_avail"));
        File.WriteAllText(Path.Combine(host.Gpu, "proc/sys/kernel/osrelease"), "4.19.0-27-amd64\n");
        Assert.Contains("PID", host.Failing("kernel-namespaces").Cause);
        Assert.Contains("CONFIG_SECCOMP_FILTER", host.Failing("kernel-seccomp").Fix);
        Assert.Contains("one component at a time", host.Failing("kernel-openat2", CheckStatus.Warning).Cause);
        Assert.Contains("re-executed child", host.Failing("kernel-mount-api", CheckStatus.Warning).Cause);
    }

    [Fact]
    public void Route_probes_follow_the_checks_and_a_gpu_arrives_only_with_a_listed_node()
    {
        var facts = new DoctorFacts
        {
            Setup = new DoctorSetup { Roots = new HostRoots("/nonexistent-root") }, DaemonJsonText = "{}", EnginePath = "/bin", EnginePathSource = "test",
        };
        List<Finding> findings = [Finding.Ok("docker-runtime", ""), Finding.Problem("docker-hook", "", "", ""), Finding.Ok("cdi-specs", "")];
        var probes = RouteProbes.Plan(facts, findings, "img", podmanInstalled: true);
        Assert.Equal(["docker --runtime=nvidia", "docker CDI", "podman CDI"], probes.Select(p => p.Route));
        Assert.Equal(["run", "--rm", "--device", "nvidia.com/gpu=all", "img", "sh", "-c", RouteProbes.ListGpus], probes[1].Args);
        Assert.True(RouteProbes.Arrived(0, "/dev/nvidia0\n"));
        Assert.False(RouteProbes.Arrived(0, "ls: /dev/nvidia[0-9]*: No such file or directory\n"));
        Assert.False(RouteProbes.Arrived(125, "/dev/nvidia0\n"));
    }
}

using System.Diagnostics;
using Grpc.Core;
using Gantry.Tests.Support;

namespace Gantry.Tests.Kubernetes;

/// <summary>The published nvidia-device-plugin on a simulated 4-GPU host, driven by the test kubelet.</summary>
public sealed class DevicePluginTests(KubeHost host) : IClassFixture<KubeHost>
{
    const string Gpu = "nvidia.com/gpu";

    static void Cleanup(string dir) { try { Directory.Delete(dir, true); } catch (IOException) { } }

    [PluginFact]
    public async Task Registers_lists_every_gpu_with_its_numa_node_and_answers_envvar_by_uuid()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir);
        var p = kubelet.Plugin(Gpu);
        var reg = kubelet.Registrations.First();
        Assert.Equal("v1beta1", reg.Version);
        Assert.Equal("nvidia-gpu.sock", reg.Endpoint);
        Assert.True(p.Options.GetPreferredAllocationAvailable);
        var devices = p.WaitFor(d => d.Count == 4);
        Assert.Equal(Enumerable.Range(0, 4).Select(host.Uuid), devices.Select(d => d.ID));
        Assert.All(devices, d => Assert.Equal("Healthy", d.Health));
        Assert.Equal(new long[] { 0, 0, 0, 0 }, devices.Select(d => d.Topology.Nodes[0].ID));
        var r = p.Allocate([host.Uuid(2), host.Uuid(0)]);
        Assert.Equal($"{host.Uuid(2)},{host.Uuid(0)}", r.Envs["NVIDIA_VISIBLE_DEVICES"]);
        Assert.Empty(r.Mounts);
        Assert.Empty(r.Devices);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Every_strategy_at_once_with_index_ids_and_device_specs()
    {
        var dir = KubeHost.KubeletDir();
        using var cdi = new TempDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--device-id-strategy=index", "--pass-device-specs",
            "--device-list-strategy=envvar,volume-mounts,cdi-annotations,cdi-cri", "--cdi-spec-dir", cdi.Path,
            "--cdi-annotation-prefix=gantry.test/", "--nvidia-cdi-hook-path=/opt/test/nvidia-cdi-hook", "--dev-root", host.Root);
        var p = kubelet.Plugin(Gpu);
        Assert.Equal(["0", "1", "2", "3"], p.WaitFor(d => d.Count == 4).Select(d => d.ID));
        var r = p.Allocate(["1", "3"]);
        Assert.Equal("/var/run/nvidia-container-devices", r.Envs["NVIDIA_VISIBLE_DEVICES"]);
        Assert.Equal(["/var/run/nvidia-container-devices/1", "/var/run/nvidia-container-devices/3"], r.Mounts.Select(m => m.ContainerPath));
        Assert.All(r.Mounts, m => Assert.Equal("/dev/null", m.HostPath));
        var annotation = Assert.Single(r.Annotations);
        Assert.StartsWith("gantry.test/nvidia-device-plugin_", annotation.Key);
        Assert.Equal("k8s.device-plugin.nvidia.com/gpu=1,k8s.device-plugin.nvidia.com/gpu=3", annotation.Value);
        Assert.Equal(["k8s.device-plugin.nvidia.com/gpu=1", "k8s.device-plugin.nvidia.com/gpu=3"], r.CdiDevices.Select(c => c.Name));
        var specs = r.Devices.Select(d => d.ContainerPath).ToList();
        Assert.Contains("/dev/nvidiactl", specs);
        Assert.Contains("/dev/nvidia1", specs);
        Assert.Contains("/dev/nvidia3", specs);
        Assert.DoesNotContain("/dev/nvidia0", specs);
        Assert.All(r.Devices, d => { Assert.Equal("rw", d.Permissions); Assert.StartsWith(host.Root, d.HostPath); });
        var spec = File.ReadAllText(Path.Combine(cdi.Path, "k8s.device-plugin.nvidia.com-gpu.yaml"));
        Assert.Contains("kind: k8s.device-plugin.nvidia.com/gpu", spec);
        Assert.Contains($"name: {host.Uuid(1)}", spec);
        Assert.Contains("name: \"1\"", spec);
        Assert.Contains("path: /opt/test/nvidia-cdi-hook", spec);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Bad_requests_get_invalid_argument_that_says_what_was_wrong()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir);
        var p = kubelet.Plugin(Gpu);
        p.WaitFor(d => d.Count == 4);
        string Refused(params string[] ids) => Assert.Throws<RpcException>(() => p.Allocate(ids)) is var e && e.StatusCode == StatusCode.InvalidArgument
            ? e.Status.Detail : throw new Xunit.Sdk.XunitException($"status {e.StatusCode}");
        Assert.Contains("unknown device id 'GPU-nope'", Refused("GPU-nope"));
        Assert.Contains("requested twice", Refused(host.Uuid(0), host.Uuid(0)));
        Assert.Contains("5 devices requested, but this node offers 4", Refused(host.Uuid(0), host.Uuid(1), host.Uuid(2), host.Uuid(3), "x"));
        Assert.Contains("with no device ids", Refused());
        // Still serving.
        Assert.Equal(host.Uuid(1), p.Allocate([host.Uuid(1)]).Envs["NVIDIA_VISIBLE_DEVICES"]);
        Assert.False(plugin.Process.HasExited);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Started_before_the_kubelet_it_registers_when_kubelet_sock_appears_and_again_after_a_restart()
    {
        var dir = KubeHost.KubeletDir();
        Directory.CreateDirectory(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir);
        var own = Path.Combine(dir, "nvidia-gpu.sock");
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(own) && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.True(File.Exists(own), plugin.Log);
        await using var kubelet = new TestKubelet(dir);
        var watch = Stopwatch.StartNew();
        kubelet.Plugin(Gpu, TimeSpan.FromSeconds(5));
        Assert.True(watch.ElapsedMilliseconds < 1000, $"registered {watch.ElapsedMilliseconds} ms after kubelet.sock appeared");

        kubelet.Restart();
        watch.Restart();
        kubelet.Plugin(Gpu, TimeSpan.FromSeconds(5)).WaitFor(d => d.Count == 4);
        Assert.True(watch.ElapsedMilliseconds < 1000, $"re-registered {watch.ElapsedMilliseconds} ms after the kubelet restart");
        Assert.Equal(2, kubelet.Registrations.Count);

        // Its own socket deleted: recreated, and registered again.
        File.Delete(own);
        until = DateTime.UtcNow.AddSeconds(5);
        while ((kubelet.Registrations.Count < 3 || !File.Exists(own)) && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.True(File.Exists(own), plugin.Log);
        Assert.Equal(3, kubelet.Registrations.Count);
        Assert.Single(kubelet.Plugin(Gpu).Allocate([host.Uuid(0)]).Envs);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Mig_mixed_registers_two_resources_and_single_refuses_a_mixed_host()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--mig-strategy=mixed");
        var gpus = kubelet.Plugin(Gpu).WaitFor(d => d.Count == 3);
        Assert.Equal([host.Uuid(0), host.Uuid(1), host.Uuid(2)], gpus.Select(d => d.ID));
        var mig = kubelet.Plugin("nvidia.com/mig-1g.5gb");
        Assert.Equal([host.MigUuid(3, 0), host.MigUuid(3, 1)], mig.WaitFor(d => d.Count == 2).Select(d => d.ID));
        Assert.Equal(host.MigUuid(3, 1), mig.Allocate([host.MigUuid(3, 1)]).Envs["NVIDIA_VISIBLE_DEVICES"]);
        Assert.Contains(kubelet.Registrations, r => r.Endpoint == "nvidia-mig-1g.5gb.sock");
        // A GPU id is not a MIG resource's.
        Assert.Throws<RpcException>(() => mig.Allocate([host.Uuid(0)]));

        using var single = new DevicePluginProcess(["--driver-root", host.Root, "--kubelet-socket", Path.Combine(dir, "other.sock"), "--mig-strategy=single"]);
        Assert.True(single.Exited(10_000));
        Assert.Equal(1, single.Process.ExitCode);
        Assert.Contains("MIG strategy single needs MIG enabled on every GPU", single.Log);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Time_slicing_from_the_config_file_renamed_spread_and_reloaded()
    {
        var dir = KubeHost.KubeletDir();
        using var tmp = new TempDir();
        var config = tmp["config.yaml"];
        File.WriteAllText(config, """
            version: v1
            flags:
              migStrategy: none
              plugin:
                deviceListStrategy: envvar
                deviceIDStrategy: index
            sharing:
              timeSlicing:
                renameByDefault: true
                failRequestsGreaterThanOne: false
                resources:
                - name: nvidia.com/gpu
                  replicas: 4
            """);
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--config-file", config);
        var p = kubelet.Plugin("nvidia.com/gpu.shared");
        var devices = p.WaitFor(d => d.Count == 16);
        Assert.Contains("0::0", devices.Select(d => d.ID));
        Assert.Contains("3::3", devices.Select(d => d.ID));
        Assert.Equal("nvidia-gpu.shared.sock", kubelet.Registrations.Single().Endpoint);
        // Replicas are spread: three replicas on three GPUs; Allocate names the GPUs once each.
        var (ids, r) = p.AllocateContainer(3);
        Assert.Equal(3, ids.Select(id => id.Split("::")[0]).Distinct().Count());
        Assert.Equal(3, r.Envs["NVIDIA_VISIBLE_DEVICES"].Split(',').Length);
        Assert.Equal("1", p.Allocate(["1::0", "1::2"]).Envs["NVIDIA_VISIBLE_DEVICES"]);

        // failRequestsGreaterThanOne and 2 replicas, no rename: reloaded without a restart of the process.
        File.WriteAllText(config, """
            version: v1
            sharing:
              timeSlicing:
                failRequestsGreaterThanOne: true
                resources:
                - name: nvidia.com/gpu
                  replicas: 2
            """);
        var reloaded = kubelet.Plugin(Gpu, TimeSpan.FromSeconds(10));
        var list = reloaded.WaitFor(d => d.Count == 8);
        Assert.Contains($"{host.Uuid(0)}::1", list.Select(d => d.ID));
        var e = Assert.Throws<RpcException>(() => reloaded.Allocate([$"{host.Uuid(0)}::0", $"{host.Uuid(1)}::0"]));
        Assert.Contains("failRequestsGreaterThanOne", e.Status.Detail);

        // A malformed file keeps the running configuration and says why.
        File.WriteAllText(config, "version: v2\n");
        var until = DateTime.UtcNow.AddSeconds(5);
        while (!plugin.Log.Contains("unknown version 'v2'") && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.Contains("still serving the previous configuration", plugin.Log);
        Assert.False(plugin.Process.HasExited);
        Assert.Single(reloaded.Allocate([$"{host.Uuid(2)}::1"]).Envs);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task Two_plugins_for_two_resources_share_the_kubelet_and_both_come_back_after_a_restart()
    {
        var dir = KubeHost.KubeletDir();
        using var tmp = new TempDir();
        File.WriteAllText(tmp["shared.yaml"], "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: gpu\n      rename: gpu.shared\n      replicas: 2\n");
        await using var kubelet = new TestKubelet(dir);
        using var whole = DevicePluginProcess.For(host.Root, dir);
        using var shared = DevicePluginProcess.For(host.Root, dir, "--config-file", tmp["shared.yaml"]);
        Assert.Equal(4, kubelet.Plugin(Gpu).WaitFor(d => d.Count == 4).Count);
        Assert.Equal(8, kubelet.Plugin("nvidia.com/gpu.shared").WaitFor(d => d.Count == 8).Count);
        kubelet.Restart();
        Assert.Single(kubelet.Plugin(Gpu, TimeSpan.FromSeconds(5)).Allocate([host.Uuid(0)]).Envs);
        Assert.Single(kubelet.Plugin("nvidia.com/gpu.shared", TimeSpan.FromSeconds(5)).Allocate([$"{host.Uuid(0)}::1"]).Envs);
        Assert.Equal(4, kubelet.Registrations.Count);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task A_device_list_strategy_list_in_the_config_file_and_a_flag_that_wins_over_the_file()
    {
        var dir = KubeHost.KubeletDir();
        using var tmp = new TempDir();
        File.WriteAllText(tmp["c.yaml"], "version: v1\nflags:\n  plugin:\n    passDeviceSpecs: true\n    deviceListStrategy:\n    - envvar\n    - volume-mounts\n    deviceIDStrategy: index\n");
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--config-file", tmp["c.yaml"], "--device-id-strategy=uuid");
        var p = kubelet.Plugin(Gpu);
        p.WaitFor(d => d.Count == 4);
        var r = p.Allocate([host.Uuid(1)]); // the flag's uuid beat the file's index
        Assert.Equal($"/var/run/nvidia-container-devices/{host.Uuid(1)}", Assert.Single(r.Mounts).ContainerPath);
        Assert.Contains(r.Devices, d => d.ContainerPath == "/dev/nvidia1");
        Cleanup(dir);
    }

    [PluginFact]
    public void A_malformed_config_file_at_start_is_an_error_naming_the_file()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["bad.yaml"], "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 0\n");
        using var plugin = new DevicePluginProcess(["--driver-root", host.Root, "--kubelet-socket", tmp["kubelet.sock"], "--config-file", tmp["bad.yaml"]]);
        Assert.True(plugin.Exited(10_000));
        Assert.Equal(1, plugin.Process.ExitCode);
        Assert.Contains($"config file {tmp["bad.yaml"]}: sharing.timeSlicing resource 'nvidia.com/gpu' needs replicas of 1 or more", plugin.Log);
    }

    [PluginFact]
    public async Task Preferred_allocation_packs_gpus_behind_one_switch()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--device-id-strategy=index");
        var p = kubelet.Plugin(Gpu);
        p.WaitFor(d => d.Count == 4);
        // Simulated PCIe tree: GPUs 0,1 behind one switch, 2,3 behind another.
        string[] Pick(string[] available, int n, params string[] must) => p.Client.GetPreferredAllocation(new Gantry.DevicePlugin.V1Beta1.PreferredAllocationRequest
        {
            ContainerRequests = { new Gantry.DevicePlugin.V1Beta1.ContainerPreferredAllocationRequest { AvailableDeviceIDs = { available }, MustIncludeDeviceIDs = { must }, AllocationSize = n } },
        }).ContainerResponses[0].DeviceIDs.Order().ToArray();
        Assert.Equal(["2", "3"], Pick(["0", "2", "3"], 2));
        Assert.Equal(["0", "1"], Pick(["0", "1", "2", "3"], 2, "1"));
        Assert.Equal(["2", "3"], Pick(["1", "2", "3"], 2, "3"));
        Cleanup(dir);
    }

    [PluginFact]
    public async Task A_thousand_random_allocate_calls_valid_and_invalid()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Root, dir, "--device-id-strategy=index");
        var p = kubelet.Plugin(Gpu);
        p.WaitFor(d => d.Count == 4);
        var random = new Random(15);
        string[] pool = ["0", "1", "2", "3", "4", "-1", "GPU-x", "", "0:0", "0::1"];
        int ok = 0, refused = 0;
        for (var i = 0; i < 1000; i++)
        {
            // Mostly valid ids, so that both answers are common.
            var ids = Enumerable.Range(0, random.Next(0, 5)).Select(_ => random.Next(10) < 8 ? pool[random.Next(4)] : pool[random.Next(pool.Length)]).ToArray();
            var valid = ids.Length is > 0 and <= 4 && ids.All(id => id is "0" or "1" or "2" or "3") && ids.Distinct().Count() == ids.Length;
            try
            {
                var r = p.Allocate(ids);
                Assert.True(valid, $"accepted [{string.Join(",", ids)}]");
                Assert.Equal(string.Join(",", ids), r.Envs["NVIDIA_VISIBLE_DEVICES"]);
                ok++;
            }
            catch (RpcException e)
            {
                Assert.False(valid, $"refused [{string.Join(",", ids)}]: {e.Status.Detail}");
                Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
                refused++;
            }
        }
        Assert.True(ok > 100 && refused > 100, $"{ok} accepted, {refused} refused");
        Assert.False(plugin.Process.HasExited);
        Cleanup(dir);
    }

    [PluginFact]
    public async Task An_injected_xid_marks_the_gpu_unhealthy_and_it_comes_back()
    {
        using var sim = new TempDir();
        var root = sim["host"];
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", root, "--gpus", "2").ExitCode);
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(root, dir, "--device-id-strategy=index");
        var p = kubelet.Plugin(Gpu);
        p.WaitFor(d => d.Count == 2 && d.All(x => x.Health == "Healthy"));
        void Inject(string e) => Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", root, "--event", e).ExitCode);

        var bad = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", root, "--event", "boom 1");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--event takes 'xid GPU CODE [GI CI]'", bad.Combined);

        Inject("xid 1 13"); // an application error: ignored
        Thread.Sleep(400);
        Assert.Equal(["0", "1"], p.Healthy());

        var watch = Stopwatch.StartNew();
        Inject("xid 1 48");
        p.WaitFor(d => d.Single(x => x.ID == "1").Health == "Unhealthy", TimeSpan.FromSeconds(3));
        var e1 = Assert.Throws<RpcException>(() => p.Allocate(["1"]));
        Assert.Contains("device '1' is unhealthy (Xid 48)", e1.Status.Detail);
        // Healthy again after the recovery interval (0.5 s here).
        p.WaitFor(d => d.All(x => x.Health == "Healthy"), TimeSpan.FromSeconds(5));

        Inject("lost 0");
        p.WaitFor(d => d.Single(x => x.ID == "0").Health == "Unhealthy", TimeSpan.FromSeconds(3));
        Thread.Sleep(1000); // still lost: stays unhealthy past the recovery interval
        Assert.Equal(["1"], p.Healthy());
        Inject("back 0");
        p.WaitFor(d => d.All(x => x.Health == "Healthy"), TimeSpan.FromSeconds(5));
        Assert.Contains("is healthy again", plugin.Log);
        Cleanup(dir);
    }

    [PluginFact]
    public void Gpu_feature_discovery_writes_upstreams_labels()
    {
        using var tmp = new TempDir();
        var gfd = Path.Combine(TestEnvironment.BinDir, "gpu-feature-discovery");
        var r = TestEnvironment.Run(gfd, "--oneshot", "--no-timestamp", "--driver-root", host.Root, "--dev-root", host.Root, "--mig-strategy=mixed",
            "--output-file", tmp["gfd"], "--machine-type-file", tmp["none"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        var labels = File.ReadAllLines(tmp["gfd"]).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("NVIDIA-A100-SXM4-40GB", labels["nvidia.com/gpu.product"]);
        Assert.Equal("4", labels["nvidia.com/gpu.count"]);
        Assert.Equal("40960", labels["nvidia.com/gpu.memory"]);
        Assert.Equal("8", labels["nvidia.com/gpu.compute.major"]);
        Assert.Equal("0", labels["nvidia.com/gpu.compute.minor"]);
        Assert.Equal("ampere", labels["nvidia.com/gpu.family"]);
        Assert.Equal("550", labels["nvidia.com/cuda.driver.major"]);
        Assert.Equal("54", labels["nvidia.com/cuda.driver.minor"]);
        Assert.Equal("15", labels["nvidia.com/cuda.driver.rev"]);
        Assert.Equal("12", labels["nvidia.com/cuda.runtime.major"]);
        Assert.Equal("true", labels["nvidia.com/mig.capable"]);
        Assert.Equal("mixed", labels["nvidia.com/mig.strategy"]);
        Assert.Equal("1", labels["nvidia.com/gpu.replicas"]);
        Assert.Equal("none", labels["nvidia.com/gpu.sharing-strategy"]);
        Assert.Equal("2", labels["nvidia.com/mig-1g.5gb.count"]);
        Assert.DoesNotContain("nvidia.com/gfd.timestamp", labels.Keys);
    }

    [PluginFact]
    public void Gpu_feature_discovery_prints_its_flags_and_refuses_the_plugins_own()
    {
        var gfd = Path.Combine(TestEnvironment.BinDir, "gpu-feature-discovery");
        var help = TestEnvironment.Run(gfd, "--help");
        Assert.True(help.ExitCode == 0, help.Combined);
        Assert.Contains("--oneshot", help.Stderr);
        Assert.Contains("--mig-strategy", help.Stderr);
        Assert.DoesNotContain("--kubelet-socket", help.Stderr);
        var r = TestEnvironment.Run(gfd, "--oneshot", "--driver-root", host.Root, "--kubelet-socket=/x/kubelet.sock");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--kubelet-socket is a flag of nvidia-device-plugin; gpu-feature-discovery does not use it", r.Stderr);
    }

    [PluginFact]
    public void Gpu_feature_discovery_labels_time_slicing_and_mig_single_and_relabels_periodically()
    {
        using var tmp = new TempDir();
        var gfd = Path.Combine(TestEnvironment.BinDir, "gpu-feature-discovery");
        File.WriteAllText(tmp["ts.yaml"], "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n");
        var r = TestEnvironment.Run(gfd, "--oneshot", "--driver-root", host.Root, "--config-file", tmp["ts.yaml"], "--output-file", tmp["gfd"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        var labels = File.ReadAllLines(tmp["gfd"]).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("4", labels["nvidia.com/gpu.replicas"]);
        Assert.Equal("time-slicing", labels["nvidia.com/gpu.sharing-strategy"]);
        Assert.Equal("none", labels["nvidia.com/mig.strategy"]);
        Assert.Matches("^[0-9]{10}$", labels["nvidia.com/gfd.timestamp"]);

        // single on a host where only GPU 3 has MIG: refused, as the plugin refuses it.
        var single = TestEnvironment.Run(gfd, "--oneshot", "--driver-root", host.Root, "--mig-strategy=single", "--output-file", tmp["gfd2"]);
        Assert.Equal(1, single.ExitCode);
        Assert.Contains("MIG strategy single needs MIG enabled on every GPU", single.Combined);

        // Periodic: the file is written again after each interval.
        var psi = new System.Diagnostics.ProcessStartInfo(gfd) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "--driver-root", host.Root, "--sleep-interval", "200ms", "--output-file", tmp["gfd3"] }) psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(tmp["gfd3"]) && DateTime.UtcNow < until) Thread.Sleep(20);
        var first = File.GetLastWriteTimeUtc(tmp["gfd3"]);
        while (File.GetLastWriteTimeUtc(tmp["gfd3"]) == first && DateTime.UtcNow < until) Thread.Sleep(20);
        Assert.NotEqual(first, File.GetLastWriteTimeUtc(tmp["gfd3"]));
        System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(5000));
        Assert.Equal(0, process.ExitCode);
    }

    [PluginFact]
    public void Without_fail_on_init_error_a_node_without_a_driver_blocks_instead_of_exiting()
    {
        using var tmp = new TempDir();
        using var plugin = new DevicePluginProcess(["--driver-root", tmp["nothing"], "--kubelet-socket", tmp["kubelet.sock"], "--fail-on-init-error=false"]);
        Assert.False(plugin.Exited(1500));
        Assert.Contains("blocking instead of exiting", plugin.Log);
        Assert.Equal(0, plugin.Stop());
        using var failing = new DevicePluginProcess(["--driver-root", tmp["nothing"], "--kubelet-socket", tmp["kubelet.sock"]]);
        Assert.True(failing.Exited(10_000));
        Assert.Equal(1, failing.Process.ExitCode);
        Assert.Contains("does not exist", failing.Log);
    }
}

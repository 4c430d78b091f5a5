using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Kubernetes;
using Gantry.Tests.Support;
using K = Gantry.DevicePlugin.V1Beta1;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// The kubelet's path to a container, with real parts: the published nvidia-device-plugin on a simulated host
/// (2 GPUs, GPU 1 split into two MIG devices), the test kubelet allocating from it, and each Allocate answer
/// turned into a container as a CRI runtime would: envs and mounts into `docker run` with Gantry's runtime, CDI
/// device names into `podman run --device`. Two docker runtimes: "nvidia" (the original's defaults) and
/// "nvidia-isolated" (accept-nvidia-visible-devices-envvar-when-unprivileged = false,
/// accept-nvidia-visible-devices-as-volume-mounts = true: what the volume-mounts strategy is for).
/// </summary>
public sealed class KubeContainerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox-k8s";
    internal ShimHost Shim { get; } = new("--mig", "1:2");
    internal Docker? Docker { get; }
    internal Podman? Podman { get; }
    internal string CdiDir => "/var/run/cdi";
    readonly string _dir = Path.Combine("/tmp", $"gk-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public KubeContainerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        var open = RuntimeWrapper.Write(Shim.Dir["runtime-open"], Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Shim.Dir["config.toml"] });
        var isolatedConfig = Shim.WriteConfig("isolated.toml", "runc",
            "accept-nvidia-visible-devices-envvar-when-unprivileged = false\naccept-nvidia-visible-devices-as-volume-mounts = true");
        var isolated = RuntimeWrapper.Write(Shim.Dir["runtime-isolated"], Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = isolatedConfig });
        Docker = new Docker(_dir, new Dictionary<string, string> { ["nvidia"] = open, ["nvidia-isolated"] = isolated });
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Docker.Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
        if (Gantry.Engines.Podman.Binary is not null)
        {
            Podman = new Podman(Shim.Dir["podman"]);
            var pi = Podman.Import(tar, "localhost/" + Image);
            Assert.True(pi.ExitCode == 0, pi.Combined);
        }
    }

    /// <summary>What a container sees: device nodes, MIG caps, and nvidia-smi's list (with UUIDs).</summary>
    internal const string Survey = "echo DEV $(ls /dev | grep -E '^nvidia[0-9]+$' | sort); echo CAPS $(ls /dev/nvidia-caps 2>/dev/null | sort); nvidia-smi -L 2>&1";

    /// <summary>`docker run` of an Allocate answer: its envs as -e, its mounts as -v, plus extra env (an image's).</summary>
    internal ProcessResult Run(string runtime, K.ContainerAllocateResponse? r, params string[] imageEnv)
    {
        var args = new List<string> { "run", "--rm", "--runtime=" + runtime };
        foreach (var e in imageEnv) args.AddRange(["-e", e]);
        foreach (var (k, v) in r?.Envs ?? []) args.AddRange(["-e", $"{k}={v}"]);
        foreach (var m in r?.Mounts ?? []) args.AddRange(["-v", $"{m.HostPath}:{m.ContainerPath}{(m.ReadOnly ? ":ro" : "")}"]);
        args.AddRange([Image, "sh", "-c", Survey]);
        return Docker!.Run([.. args]);
    }

    public void Dispose()
    {
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Shim.Dispose();
    }
}

public sealed class KubernetesContainerTests(KubeContainerHost host) : IClassFixture<KubeContainerHost>
{
    string Uuid(int gpu) => Info()["gpus"]![gpu]!["uuid"]!.ToString();
    string MigUuid(int gpu, int mig) => Info()["gpus"]![gpu]!["migDevices"]![mig]!["uuid"]!.ToString();
    System.Text.Json.Nodes.JsonNode? _info;
    System.Text.Json.Nodes.JsonNode Info() => _info ??= System.Text.Json.Nodes.JsonNode.Parse(
        TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", host.Shim.HostRoot, "--json").Stdout)!;

    static void Seen(ProcessResult r, string dev, string caps, params string[] uuids)
    {
        Assert.True(r.ExitCode == 0, r.Combined);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(("DEV " + dev).TrimEnd(), lines[0].TrimEnd());
        Assert.Equal(("CAPS " + caps).TrimEnd(), lines[1].TrimEnd());
        // One "GPU n:" line per physical GPU (a MIG device is listed under its GPU), and every allocated UUID.
        var smi = lines.Skip(2).ToList();
        Assert.Equal(uuids.Count(u => u.StartsWith("GPU-", StringComparison.Ordinal)) is var n and > 0 ? n : 1,
            smi.Count(l => l.StartsWith("GPU ", StringComparison.Ordinal)));
        foreach (var u in uuids) Assert.Contains(smi, l => l.Contains(u, StringComparison.Ordinal));
    }

    [EngineFact("dockerd")]
    public async Task Envvar_answers_give_the_container_exactly_the_allocated_gpus()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Shim.HostRoot, dir);
        var p = kubelet.Plugin("nvidia.com/gpu");
        p.WaitFor(d => d.Count == 2);
        var (ids, r) = p.AllocateContainer(1);
        Seen(host.Run("nvidia", r), ids[0] == Uuid(0) ? "nvidia0" : "nvidia1", ids[0] == Uuid(0) ? "" : "nvidia-cap201 nvidia-cap202 nvidia-cap210 nvidia-cap211", ids[0]);
        var (ids2, r2) = p.AllocateContainer(1);
        Assert.NotEqual(ids[0], ids2[0]);
        Assert.Contains(ids2[0], r2.Envs["NVIDIA_VISIBLE_DEVICES"]);
    }

    [EngineFact("dockerd")]
    public async Task Volume_mount_answers_with_the_isolating_config_and_a_pod_without_gpus_gets_none_despite_its_image()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Shim.HostRoot, dir, "--device-list-strategy=volume-mounts", "--device-id-strategy=index");
        var p = kubelet.Plugin("nvidia.com/gpu");
        p.WaitFor(d => d.Count == 2);
        var r = p.Allocate(["0"]);
        // The image also says NVIDIA_VISIBLE_DEVICES=all: the answer's env (set later) and its mounts win.
        Seen(host.Run("nvidia-isolated", r, "NVIDIA_VISIBLE_DEVICES=all"), "nvidia0", "", Uuid(0));
        // A pod that asked for no GPU, its image setting NVIDIA_VISIBLE_DEVICES=all: nothing.
        var none = host.Run("nvidia-isolated", null, "NVIDIA_VISIBLE_DEVICES=all");
        Assert.Contains("nvidia-smi: not found", none.Combined); // not even the driver's tools
        Assert.Equal(["DEV", "CAPS"], none.Stdout.Split('\n').Take(2).Select(l => l.TrimEnd()));
        Assert.DoesNotContain("GPU 0", none.Stdout);
        // With the original's defaults the same image gets every GPU: the reason for the isolating keys.
        Assert.Contains("GPU 1", host.Run("nvidia", null, "NVIDIA_VISIBLE_DEVICES=all").Stdout);
    }

    [EngineFact("dockerd")]
    public async Task Mig_mixed_and_time_sliced_answers_become_the_right_containers()
    {
        var dir = KubeHost.KubeletDir();
        using var tmp = new TempDir();
        File.WriteAllText(tmp["config.yaml"], "version: v1\nflags:\n  migStrategy: mixed\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 3\n");
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Shim.HostRoot, dir, "--config-file", tmp["config.yaml"]);
        var mig = kubelet.Plugin("nvidia.com/mig-1g.5gb");
        mig.WaitFor(d => d.Count == 2);
        var r = mig.Allocate([MigUuid(1, 1)]);
        // MIG device 1:1 is gpu1/gi8: its parent's node and exactly its two capability nodes (the simulated
        // nvidia-smi lists the parent GPU).
        Seen(host.Run("nvidia", r), "nvidia1", "nvidia-cap210 nvidia-cap211", Uuid(1));

        var shared = kubelet.Plugin("nvidia.com/gpu");
        Assert.Equal(3, shared.WaitFor(d => d.Count == 3).Count); // GPU 0 three times; GPU 1 is split
        var r2 = shared.Allocate([$"{Uuid(0)}::0", $"{Uuid(0)}::2"]);
        Seen(host.Run("nvidia", r2), "nvidia0", "", Uuid(0));
    }

    [EngineFact("dockerd")]
    public async Task After_an_injected_xid_the_gpu_leaves_the_list_and_comes_back_into_a_container()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        using var plugin = DevicePluginProcess.For(host.Shim.HostRoot, dir, "--device-id-strategy=index");
        var p = kubelet.Plugin("nvidia.com/gpu");
        p.WaitFor(d => d.Count == 2 && d.All(x => x.Health == "Healthy"));
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", host.Shim.HostRoot, "--event", "lost 0").ExitCode);
        p.WaitFor(d => d.Single(x => x.ID == "0").Health == "Unhealthy", TimeSpan.FromSeconds(2));
        var (ids, r) = p.AllocateContainer(1); // the kubelet only offers healthy devices
        Assert.Equal(["1"], ids);
        p.Release(ids);
        Assert.Equal(0, TestEnvironment.Run(TestEnvironment.Gantry, "simulate", host.Shim.HostRoot, "--event", "back 0").ExitCode);
        p.WaitFor(d => d.All(x => x.Health == "Healthy"), TimeSpan.FromSeconds(5));
        Seen(host.Run("nvidia", p.Allocate(["0"])), "nvidia0", "", Uuid(0));
    }

    [EngineFact("podman")]
    public async Task Cdi_answers_through_podman_devices_give_exactly_the_allocated_gpus()
    {
        var dir = KubeHost.KubeletDir();
        await using var kubelet = new TestKubelet(dir);
        var spec = Path.Combine(host.CdiDir, "k8s.device-plugin.nvidia.com-gpu.yaml");
        try
        {
            using var plugin = DevicePluginProcess.For(host.Shim.HostRoot, dir, "--device-list-strategy=cdi-cri,cdi-annotations",
                "--cdi-spec-dir", host.CdiDir, "--nvidia-cdi-hook-path", Path.Combine(TestEnvironment.BinDir, "nvidia-cdi-hook"));
            var p = kubelet.Plugin("nvidia.com/gpu");
            p.WaitFor(d => d.Count == 2);
            var r = p.Allocate([Uuid(0)]);
            Assert.Equal($"k8s.device-plugin.nvidia.com/gpu={Uuid(0)}", Assert.Single(r.CdiDevices).Name);
            // What the CRI runtime does with cdi_devices (and, for cdi-annotations, with the annotation's names).
            var names = r.CdiDevices.Select(d => d.Name).Concat(r.Annotations.Values.SelectMany(v => v.Split(','))).Distinct();
            var run = host.Podman!.Run("localhost/" + KubeContainerHost.Image, names, KubeContainerHost.Survey);
            Seen(run, "nvidia0", "", Uuid(0));
        }
        finally { if (File.Exists(spec)) File.Delete(spec); }
    }
}

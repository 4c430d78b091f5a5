using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A private dockerd configured the way an administrator does it: `nvidia-ctk runtime configure --runtime=docker`
/// writes the "nvidia" runtime into the daemon.json this dockerd reads. The runtime it names is a wrapper script
/// that sets NVIDIA_CTK_CONFIG_FILE_PATH to the test's config (containerd's shim starts runtimes without
/// dockerd's environment; a real host uses /etc/nvidia-container-runtime/config.toml instead). The simulated
/// host has 2 GPUs, GPU 1 split into 2 MIG devices.
/// </summary>
public sealed class DockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox";
    internal ShimHost Shim { get; } = new("--mig", "1:2");
    internal Docker? Docker { get; }
    internal string DaemonJson => Path.Combine(_dir, "daemon.json");
    internal JsonObject? Info { get; }
    internal ProcessResult? Configure { get; }
    // A short directory: dockerd's socket paths must fit in sun_path.
    readonly string _dir = Path.Combine("/tmp", $"gd-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public DockerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        var wrapper = RuntimeWrapper.Write(Shim.Dir["nvidia-container-runtime"], Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Shim.Dir["config.toml"] });
        Directory.CreateDirectory(_dir);
        File.WriteAllText(DaemonJson, "{\n    \"log-level\": \"warn\"\n}\n");
        Configure = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "runtime", "configure", "--runtime=docker", "--config=" + DaemonJson,
            "--nvidia-runtime-path=" + wrapper);
        Assert.True(Configure.ExitCode == 0, Configure.Combined);
        Docker = new Docker(_dir, new Dictionary<string, string>());
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Docker.Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
        var info = TestEnvironment.Run(TestEnvironment.Gantry, "info", "--driver-root", Shim.HostRoot, "--json");
        Assert.True(info.ExitCode == 0, info.Combined);
        Info = (JsonObject)JsonNode.Parse(info.Stdout)!;
    }

    internal string GpuUuid(int index) => (string)Info!["gpus"]![index]!["uuid"]!;
    internal string MigUuid(int gpu, int mig) => (string)Info!["gpus"]![gpu]!["migDevices"]![mig]!["uuid"]!;

    internal ProcessResult Run(params string[] args) => Docker!.Run(["run", "--rm", "--runtime=nvidia", .. args]);

    public void Dispose()
    {
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Shim.Dispose();
    }
}

public sealed class DockerRuntimeTests(DockerHost host) : IClassFixture<DockerHost>
{
    const string Lib = "/usr/lib/x86_64-linux-gnu";

    // What a container sees, one line per fact, so each container answers many questions at once.
    const string Survey =
        "echo DEV $(ls /dev | grep nvidia | grep -v -x nvidia-caps | sort); echo CAPS $(ls /dev/nvidia-caps 2>/dev/null | sort); " +
        "echo LIB $(ls " + Lib + " 2>/dev/null | grep -E '^lib(cuda|nvidia-ml|nvidia-encode|GLX_nvidia)[.]so[.][0-9]+[.]' | sort); " +
        "echo BIN $(ls /usr/bin 2>/dev/null | grep nvidia | sort); echo ENV $NVIDIA_VISIBLE_DEVICES; " +
        "echo SMI $(nvidia-smi -L 2>/dev/null | cut -d' ' -f1-2 | tr '\\n' ' ')";

    Dictionary<string, string> Look(params string[] env)
    {
        var r = host.Run([.. env.SelectMany(e => new[] { "-e", e }), DockerHost.Image, "sh", "-c", Survey]);
        Assert.True(r.ExitCode == 0, r.Combined);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1].Trim() : "");
    }

    [EngineFact("dockerd")]
    public void Runtime_configure_registered_the_runtime_and_kept_the_other_keys()
    {
        var daemon = JsonNode.Parse(File.ReadAllText(host.DaemonJson))!;
        Assert.Equal("warn", (string)daemon["log-level"]!);
        Assert.Equal(host.Shim.Dir["nvidia-container-runtime"], (string)daemon["runtimes"]!["nvidia"]!["path"]!);
        Assert.Equal("[]", daemon["runtimes"]!["nvidia"]!["args"]!.ToJsonString());
    }

    [EngineFact("dockerd")]
    public void One_gpu_by_index_gets_only_its_node_and_the_default_capabilities()
    {
        var one = Look("NVIDIA_VISIBLE_DEVICES=1");
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl", one["DEV"]); // no modeset: that is display
        Assert.Equal("", one["CAPS"]);
        Assert.Equal("libcuda.so.550.54.15 libnvidia-ml.so.550.54.15", one["LIB"]); // utility,compute: no video, no graphics
        Assert.Contains("nvidia-smi", one["BIN"]);
        Assert.Equal("void", one["ENV"]);
        Assert.Equal("GPU 1:", one["SMI"]);
    }

    [EngineFact("dockerd")]
    public void All_none_void_and_unset_behave_as_the_original()
    {
        var all = Look("NVIDIA_VISIBLE_DEVICES=all");
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl", all["DEV"]);
        Assert.Equal("nvidia-cap201 nvidia-cap202 nvidia-cap210 nvidia-cap211", all["CAPS"]); // GPU 1 is split: its MIG devices
        Assert.Equal("GPU 0: GPU 1:", all["SMI"]);

        var none = Look("NVIDIA_VISIBLE_DEVICES=none");
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidiactl", none["DEV"]);
        Assert.Equal("libcuda.so.550.54.15 libnvidia-ml.so.550.54.15", none["LIB"]);
        Assert.Equal("No devices", none["SMI"]); // the driver's tools are there, no GPU is ("No devices were found")

        foreach (var nothing in new[] { Look("NVIDIA_VISIBLE_DEVICES=void"), Look() })
        {
            Assert.Equal("", nothing["DEV"]);
            Assert.Equal("", nothing["LIB"]);
            Assert.Equal("", nothing["BIN"]);
        }
    }

    [EngineFact("dockerd")]
    public void Gpu_and_mig_uuids_and_mig_indexes_select_devices()
    {
        var byUuid = Look($"NVIDIA_VISIBLE_DEVICES={host.GpuUuid(0)},{host.MigUuid(1, 1)}");
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia0 nvidia1 nvidiactl", byUuid["DEV"]);
        Assert.Equal("nvidia-cap210 nvidia-cap211", byUuid["CAPS"]); // gpu1/gi8/access and gpu1/gi8/ci0/access

        var byIndex = Look("NVIDIA_VISIBLE_DEVICES=1:0");
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia1 nvidiactl", byIndex["DEV"]);
        Assert.Equal("nvidia-cap201 nvidia-cap202", byIndex["CAPS"]);
    }

    [EngineFact("dockerd")]
    public void Capabilities_utility_and_compute_change_the_mounted_files()
    {
        var utility = Look("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=utility");
        Assert.Equal("libnvidia-ml.so.550.54.15", utility["LIB"]);
        Assert.Equal("nvidia-debugdump nvidia-persistenced nvidia-smi", utility["BIN"]);
        Assert.Equal("nvidia0 nvidiactl", utility["DEV"]);

        var compute = Look("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute");
        Assert.Equal("libcuda.so.550.54.15", compute["LIB"]);
        Assert.Equal("nvidia-cuda-mps-control nvidia-cuda-mps-server", compute["BIN"]);
        Assert.Equal("nvidia-uvm nvidia-uvm-tools nvidia0 nvidiactl", compute["DEV"]);

        var all = Look("NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all");
        Assert.Equal("libGLX_nvidia.so.550.54.15 libcuda.so.550.54.15 libnvidia-encode.so.550.54.15 libnvidia-ml.so.550.54.15", all["LIB"]);
        Assert.Equal("nvidia-modeset nvidia-uvm nvidia-uvm-tools nvidia0 nvidiactl", all["DEV"]);
    }

    [EngineFact("dockerd")]
    public void An_unmet_cuda_requirement_fails_docker_run_with_the_requirement()
    {
        var r = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=0", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=99.0", DockerHost.Image, "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("requirement error: unsatisfied condition: cuda>=99.0, please update your driver to a newer version", r.Stderr);
        var ok = host.Run("-e", "NVIDIA_VISIBLE_DEVICES=0", "-e", "NVIDIA_REQUIRE_CUDA=cuda>=12.0 brand=tesla", DockerHost.Image, "true");
        Assert.True(ok.ExitCode == 0, ok.Combined);
    }

    // No GPU env: the shim only forwards, so the container must look exactly as under runc.
    [EngineFact("dockerd")]
    public void Plain_busybox_through_the_nvidia_runtime_is_the_same_as_under_runc()
    {
        const string Describe = "ls -1 /dev | sort; echo; env | grep -v -e HOSTNAME -e PWD | sort; echo; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; " +
                                "echo; awk '{print $5}' /proc/self/mountinfo | sort; echo; id; ulimit -n";
        var runc = host.Docker!.Run("run", "--rm", "--runtime=runc", DockerHost.Image, "sh", "-c", Describe);
        var nvidia = host.Docker!.Run("run", "--rm", "--runtime=nvidia", DockerHost.Image, "sh", "-c", Describe);
        Assert.True(runc.ExitCode == 0, runc.Combined);
        Assert.True(nvidia.ExitCode == 0, nvidia.Combined);
        Assert.Equal(runc.Stdout, nvidia.Stdout);
        var failing = host.Docker!.Run("run", "--rm", "--runtime=nvidia", DockerHost.Image, "sh", "-c", "exit 7");
        Assert.Equal(7, failing.ExitCode);
    }

    // containerd alone: the same daemon dockerd uses, driven by ctr with the shim as its runc binary.
    [EngineFact("ctr")]
    public void Ctr_run_with_the_shim_as_runc_binary_gives_the_requested_gpu()
    {
        var rootfs = host.Shim.Dir["ctr-rootfs"];
        if (!Directory.Exists(rootfs)) { BusyboxImage.BuildTar(host.Shim.Dir["ctr"]); Directory.Move(host.Shim.Dir["ctr/rootfs"], rootfs); }
        var r = ProcessRunner.Run(ProcessRunner.Which("ctr")!, ["--address", host.Docker!.ContainerdSocket, "run", "--rm",
            "--runtime", "io.containerd.runc.v2", "--runc-binary", host.Shim.Dir["nvidia-container-runtime"],
            "--env", "NVIDIA_VISIBLE_DEVICES=0", "--env", "NVIDIA_DRIVER_CAPABILITIES=utility", "--env", "PATH=/bin:/sbin:/usr/bin",
            "--rootfs", rootfs, $"gantry-ctr-{Guid.NewGuid():N}"[..20], "/bin/sh", "-c", "ls /dev | grep nvidia | sort | tr '\\n' ' '; nvidia-smi -L"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.StartsWith("nvidia0 nvidiactl GPU 0: NVIDIA A100-SXM4-40GB", r.Stdout.Trim());
    }
}

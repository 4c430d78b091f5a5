using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A private dockerd started with --userns-remap (a test user with subordinate ids of its own): every container's
/// root is a host uid without rights on root's files. The daemons run in a mount namespace whose /dev is a copy of the
/// host's plus the simulated GPUs' nodes (runc bind-mounts device nodes from /dev in a user namespace), and
/// containerd keeps its bundles under a root-only directory, as dockerd's own containerd does. Gantry is reached
/// three ways: the runtime in jit-cdi mode, the runtime in cdi mode (a spec generated for the simulated host), and
/// `--gpus` through the hook and nvidia-container-cli.
/// </summary>
public sealed class UsernsDockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox-userns";
    internal ShimHost Shim { get; } = new();
    internal SubordinateUser? User { get; }
    internal Docker? Docker { get; }
    /// <summary>Whether the host had an NVIDIA node in /dev before (a real driver): then nothing can be said about leftovers.</summary>
    internal bool HostHadNvidiaNodes { get; } = Directory.Exists("/dev") && Directory.EnumerateFiles("/dev", "nvidia*").Any();
    readonly string _dir = Path.Combine("/tmp", $"gu-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public UsernsDockerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        User = new SubordinateUser("gantry-ns");
        var gen = Gantry.Tests.Integration.Sim.Generate(Shim.HostRoot, $"--output={Shim.Dir["cdi"]}/nvidia.yaml", $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook");
        Assert.True(gen.ExitCode == 0, gen.Combined);
        File.WriteAllText(Shim.Dir["hook.toml"], $"[nvidia-container-cli]\nroot = \"{Shim.HostRoot}\"\n");
        var wrapper = RuntimeWrapper.Write(Shim.Dir["nvidia-container-runtime"], Shim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Shim.Dir["config.toml"] });
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "daemon.json"),
            $"{{\"runtimes\":{{\"nvidia\":{{\"path\":\"{wrapper}\",\"args\":[]}}}},\"userns-remap\":\"{User.Name}\"}}\n");
        var path = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH");
        Docker = new Docker(_dir, new Dictionary<string, string>(),
            new Dictionary<string, string> { ["PATH"] = path, ["NVIDIA_CTK_CONFIG_FILE_PATH"] = Shim.Dir["hook.toml"] }, devNodesFrom: Shim.HostRoot);
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Docker.Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    internal ProcessResult Run(params string[] args) => Docker!.Run(["run", "--rm", .. args]);

    public void Dispose()
    {
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        User?.Dispose();
        Shim.Dispose();
    }
}

public sealed class UsernsDockerTests(UsernsDockerHost host) : IClassFixture<UsernsDockerHost>
{
    // GPU 1's node opens as far as a host without the kernel driver allows (ENXIO, not EPERM: the node and the
    // device cgroup are right), the driver is in the ld cache, and what was made in the root filesystem (the cache,
    // the library directory, the libcuda link) belongs to the container's root, not to the unmapped host root.
    static string Survey(string libDir) =>
        "cat /dev/nvidia1 2>&1; ls /dev/nvidia0 2>&1; echo MAP $(cat /proc/self/uid_map); " +
        "ldconfig -p | grep -q 'libcuda.so.1 ' && echo LDCACHE; " +
        $"stat -c 'OWN %u:%g %n' /etc/ld.so.cache {libDir} {libDir}/libcuda.so.1; true";

    [EngineTheory("dockerd")]
    [InlineData("jit-cdi", "--runtime=nvidia", "NVIDIA_VISIBLE_DEVICES=1", "/usr/lib/x86_64-linux-gnu")]
    [InlineData("cdi", "--runtime=nvidia", "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=1", "/usr/lib/x86_64-linux-gnu")]
    [InlineData("--gpus", "--gpus=\"device=1\"", "UNUSED=1", "/usr/lib64")]
    public void A_gpu_container_under_userns_remap_gets_its_gpu_as_the_container_root(string route, string runArg, string env, string libDir)
    {
        var r = host.Run(runArg, "-e", env, UsernsDockerHost.Image, "sh", "-c", Survey(libDir));
        Assert.True(r.ExitCode == 0, $"{route}: {r.Combined}");
        var o = r.Stdout;
        Assert.Contains("can't open '/dev/nvidia1': No such device or address", o);
        Assert.Contains("/dev/nvidia0: No such file or directory", o);
        Assert.Matches($@"MAP 0 {host.User!.First} 65536", o);
        Assert.Contains("LDCACHE", o);
        var owners = o.Split('\n').Where(l => l.StartsWith("OWN ", StringComparison.Ordinal)).ToList();
        Assert.True(owners.Count == 3, $"{route}: {o}");
        Assert.All(owners, l => Assert.StartsWith("OWN 0:0 ", l));
        // Nothing on the host: the nodes were only ever in the daemons' private /dev.
        if (!host.HostHadNvidiaNodes) Assert.Empty(Directory.EnumerateFiles("/dev", "nvidia*"));
    }
}

using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// Rootless Podman with Gantry's CDI spec: a test user with subordinate ids of its own runs podman, each run in a
/// mount namespace whose /dev holds the simulated GPUs' nodes and whose /run is a tmpfs with the spec in /run/cdi
/// (so the Podman tests running as root, whose spec sits in the host's /var/run/cdi, never see it).
/// </summary>
public sealed class RootlessPodmanHost : IDisposable
{
    public const string Image = "localhost/gantry-e2e-busybox-rootless";
    internal ShimHost Shim { get; } = new();
    internal SubordinateUser? User { get; }
    internal bool HostHadNvidiaNodes { get; } = Directory.EnumerateFiles("/dev", "nvidia*").Any();
    string Home => Shim.Dir["podman-home"];

    public RootlessPodmanHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Podman.Binary is null || RootlessDockerHost.Missing() is not null) return;
        User = new SubordinateUser("gantry-pm");
        File.SetUnixFileMode(Shim.Dir.Path, (UnixFileMode)0b111_101_101);
        var gen = Gantry.Tests.Integration.Sim.Generate(Shim.HostRoot, $"--output={Shim.Dir["cdi"]}/nvidia.yaml", $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook");
        Assert.True(gen.ExitCode == 0, gen.Combined);
        Directory.CreateDirectory(Home);
        var chown = ProcessRunner.Run("chown", [$"{User.Name}:", Home]);
        Assert.True(chown.ExitCode == 0, chown.Combined);
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = RunPodman(["import", tar, Image]);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    /// <summary>podman ARGS as the test user, in its own mount namespace (private /dev and /run).</summary>
    internal ProcessResult RunPodman(IEnumerable<string> args)
    {
        var env = $"HOME='{Home}' XDG_RUNTIME_DIR='{Home}/xdg'";
        var script = Docker.PrivateDev(Path.Combine(Shim.HostRoot, "dev"), Shim.Dir[$"dev-stage-{Guid.NewGuid():N}"]) + $"""

            mount -t tmpfs -o mode=0755 tmpfs /run && mkdir /run/cdi && cp '{Shim.Dir["cdi"]}/nvidia.yaml' /run/cdi/
            exec setpriv --reuid={User!.Name} --regid={User.Name} --init-groups env {env} sh -c 'mkdir -p -m 0700 "$XDG_RUNTIME_DIR" && exec "$@"' podman \
              podman --root '{Home}/root' --runroot '{Home}/run' --storage-driver vfs "$@"
            """;
        return ProcessRunner.Run("unshare", ["--mount", "--propagation", "slave", "--", "sh", "-ec", script, "podman", .. args]);
    }

    public void Dispose()
    {
        // Rootless Podman leaves a pause process holding its user namespace; it is ours to stop (by its pid file),
        // and userdel refuses a user with a running process. The storage (files of the subordinate ids) goes with
        // the directory.
        var pauseFile = Path.Combine(Home, "xdg", "libpod", "tmp", "pause.pid");
        if (File.Exists(pauseFile) && int.TryParse(File.ReadAllText(pauseFile).Trim(), out var pause) && pause > 1)
        {
            try { using var p = System.Diagnostics.Process.GetProcessById(pause); p.Kill(); p.WaitForExit(5000); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { }
        }
        User?.Dispose();
        Shim.Dispose();
    }
}

public sealed class RootlessPodmanTests(RootlessPodmanHost host) : IClassFixture<RootlessPodmanHost>
{
    const string Survey = "cat /dev/nvidia1 2>&1; ldconfig -p | grep -q 'libcuda.so.1 ' && echo LDCACHE; " +
                          "stat -c 'OWN %u:%g %n' /etc/ld.so.cache /usr/lib/x86_64-linux-gnu/libcuda.so; true";

    [RootlessPodmanTheory]
    [InlineData("")]
    [InlineData("--userns=nomap")]
    [InlineData("--userns=auto")]
    [InlineData("--userns=keep-id")]
    public void A_rootless_podman_container_gets_its_gpu_from_the_spec(string userns)
    {
        string[] args = ["run", "--rm", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--network", "none", .. userns.Length > 0 ? new[] { userns } : [],
            "--device", "nvidia.com/gpu=1", RootlessPodmanHost.Image, "sh", "-c", Survey];
        var r = host.RunPodman(args);
        Assert.True(r.ExitCode == 0, $"{userns}: {r.Combined}");
        Assert.Contains("can't open '/dev/nvidia1': No such device or address", r.Stdout);
        Assert.Contains("LDCACHE", r.Stdout);
        Assert.Contains("OWN 0:0 /etc/ld.so.cache", r.Stdout);
        Assert.Contains("OWN 0:0 /usr/lib/x86_64-linux-gnu/libcuda.so", r.Stdout);
        if (!host.HostHadNvidiaNodes) Assert.Empty(Directory.EnumerateFiles("/dev", "nvidia*"));
    }
}

internal sealed class RootlessPodmanTheoryAttribute : TheoryAttribute
{
    public RootlessPodmanTheoryAttribute()
    {
        if (new EngineFactAttribute("podman").Skip is { } why) Skip = why;
        else if (!TestEnvironment.EnginesRequired && RootlessDockerHost.Missing() is { } missing) Skip = missing;
    }
}

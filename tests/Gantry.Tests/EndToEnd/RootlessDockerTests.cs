using System.Diagnostics;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// Rootless Docker: dockerd (and the containerd it starts) run by a test user with subordinate ids of its own inside
/// rootlesskit's user namespace, as dockerd-rootless.sh runs it (copy-up of /etc and /run, the parent's /run/docker and
/// /run/containerd links removed) but without a network namespace (--net=host: the tests need none, and no
/// slirp4netns). rootlesskit is started from a mount namespace whose /dev holds the simulated GPUs' nodes. The shim,
/// the hooks and nvidia-container-cli all run as the root of that user namespace; the device cgroup is out of their
/// reach, so `--gpus` works with no-cgroups = true and says so without it.
/// </summary>
public sealed class RootlessDockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox-rootless";
    internal ShimHost Shim { get; } = new();
    internal SubordinateUser? User { get; }
    internal string Socket => Path.Combine(_dir, "xdg", "docker.sock");
    internal string HookConfig => Shim.Dir["rootless-hook.toml"];
    internal bool HostHadNvidiaNodes { get; } = Directory.EnumerateFiles("/dev", "nvidia*").Any();
    readonly string _dir = Path.Combine("/tmp", $"gr-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
    readonly Process? _daemon;

    public static string? Missing() =>
        ProcessRunner.Which("rootlesskit") is null || ProcessRunner.Which("newuidmap") is null ? "rootlesskit and newuidmap are not installed (apt-get install rootlesskit uidmap)" : null;

    public RootlessDockerHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Docker.Missing() is not null || Missing() is not null) return;
        User = new SubordinateUser("gantry-rl");
        // The simulated host must be readable by the test user, as a real host's driver files are.
        File.SetUnixFileMode(Shim.Dir.Path, (UnixFileMode)0b111_101_101);
        var gen = Gantry.Tests.Integration.Sim.Generate(Shim.HostRoot, $"--output={Shim.Dir["cdi"]}/nvidia.yaml", $"--nvidia-cdi-hook-path={TestEnvironment.BinDir}/nvidia-cdi-hook");
        Assert.True(gen.ExitCode == 0, gen.Combined);
        // The runtime's config without a debug log: the user namespace's root may not write the test's directory.
        var config = Shim.Dir["rootless.toml"];
        File.WriteAllText(config, $"""
            [nvidia-container-cli]
            root = "{Shim.HostRoot}"
            [nvidia-container-runtime.modes.cdi]
            spec-dirs = ["{Shim.Dir["cdi"]}"]
            [nvidia-ctk]
            path = "{TestEnvironment.NvidiaCtk}"
            """);
        UseNoCgroups(true);
        var wrapper = RuntimeWrapper.Write(Shim.Dir["nvidia-container-runtime"], Shim.Shim, new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = config });
        foreach (var d in new[] { "home", "xdg" }) Directory.CreateDirectory(Path.Combine(_dir, d));
        File.WriteAllText(Path.Combine(_dir, "daemon.json"), $"{{\"runtimes\":{{\"nvidia\":{{\"path\":\"{wrapper}\",\"args\":[]}}}}}}\n");
        var chown = ProcessRunner.Run("chown", ["-R", $"{User.Name}:", Path.Combine(_dir, "home"), Path.Combine(_dir, "xdg")]);
        Assert.True(chown.ExitCode == 0, chown.Combined);
        File.SetUnixFileMode(Path.Combine(_dir, "xdg"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string[] dockerd = ["dockerd", "--data-root", Path.Combine(_dir, "home", "data"), "--exec-root", Path.Combine(_dir, "xdg", "exec"),
            "--pidfile", Path.Combine(_dir, "xdg", "docker.pid"), "-H", "unix://" + Socket, "--iptables=false", "--ip6tables=false", "--bridge=none",
            "--config-file", Path.Combine(_dir, "daemon.json")];
        var env = $"HOME='{_dir}/home' XDG_RUNTIME_DIR='{_dir}/xdg' PATH='{TestEnvironment.BinDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' NVIDIA_CTK_CONFIG_FILE_PATH='{HookConfig}'";
        var script = Docker.PrivateDev(Path.Combine(Shim.HostRoot, "dev"), Path.Combine(_dir, "dev-stage")) +
            $"\nexec setpriv --reuid={User.Name} --regid={User.Name} --init-groups env {env} rootlesskit --net=host --copy-up=/etc --copy-up=/run " +
            $"--state-dir='{_dir}/xdg/rootlesskit' sh -c 'rm -f /run/docker /run/containerd /run/xtables.lock; exec \"$@\"' dockerd \"$@\"";
        var psi = new ProcessStartInfo("unshare") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--mount", "--propagation", "slave", "--", "sh", "-ec", script, "rootless" }.Concat(dockerd)) psi.ArgumentList.Add(a);
        var log = File.CreateText(Path.Combine(_dir, "dockerd.log"));
        _daemon = Process.Start(psi)!;
        _daemon.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        _daemon.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        for (var i = 0; i < 300 && Run("version").ExitCode != 0; i++)
        {
            Assert.False(_daemon.HasExited, $"rootless dockerd exited; see {_dir}/dockerd.log");
            Thread.Sleep(100);
        }
        var tar = BusyboxImage.BuildTar(Shim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    /// <summary>The hook's config (read per container): the CLI's root, with or without no-cgroups.</summary>
    internal void UseNoCgroups(bool on) =>
        File.WriteAllText(HookConfig, $"[nvidia-container-cli]\nroot = \"{Shim.HostRoot}\"\n{(on ? "no-cgroups = true\n" : "")}");

    internal ProcessResult Run(params string[] args) => ProcessRunner.Run(ProcessRunner.Which("docker")!, ["-H", "unix://" + Socket, .. args]);

    public void Dispose()
    {
        if (_daemon is { HasExited: false })
        {
            // rootlesskit passes SIGTERM on to dockerd, which stops its containerd.
            ProcessRunner.Run("kill", ["-TERM", _daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (!_daemon.WaitForExit(15000)) _daemon.Kill(entireProcessTree: true);
        }
        _daemon?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        User?.Dispose();
        Shim.Dispose();
    }
}

public sealed class RootlessDockerTests(RootlessDockerHost host) : IClassFixture<RootlessDockerHost>
{
    const string Survey = "cat /dev/nvidia1 2>&1; ldconfig -p | grep -q 'libcuda.so.1 ' && echo LDCACHE; stat -c 'OWN %u:%g %n' /etc/ld.so.cache; true";

    [RootlessTheory]
    [InlineData("jit-cdi", "--runtime=nvidia", "NVIDIA_VISIBLE_DEVICES=1")]
    [InlineData("cdi", "--runtime=nvidia", "NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=1")]
    [InlineData("--gpus", "--gpus=\"device=1\"", "UNUSED=1")]
    public void A_gpu_container_of_rootless_docker_gets_its_gpu(string route, string runArg, string env)
    {
        var r = host.Run("run", "--rm", runArg, "-e", env, RootlessDockerHost.Image, "sh", "-c", Survey);
        Assert.True(r.ExitCode == 0, $"{route}: {r.Combined}");
        Assert.Contains("can't open '/dev/nvidia1': No such device or address", r.Stdout);
        Assert.Contains("LDCACHE", r.Stdout);
        Assert.Contains("OWN 0:0 /etc/ld.so.cache", r.Stdout);
        if (!host.HostHadNvidiaNodes) Assert.Empty(Directory.EnumerateFiles("/dev", "nvidia*"));
    }

    [RootlessFact]
    public void Without_no_cgroups_the_gpus_route_names_the_key_instead_of_a_bare_errno()
    {
        host.UseNoCgroups(false);
        try
        {
            var r = host.Run("run", "--rm", "--gpus=\"device=1\"", RootlessDockerHost.Image, "true");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("cannot program the device cgroup: set no-cgroups = true in the [nvidia-container-cli] table of config.toml", r.Stderr);
        }
        finally { host.UseNoCgroups(true); }
    }
}

/// <summary>An engine test that also needs rootlesskit and newuidmap.</summary>
internal sealed class RootlessFactAttribute : FactAttribute
{
    public RootlessFactAttribute()
    {
        if (new EngineFactAttribute("dockerd").Skip is { } why) Skip = why;
        else if (!TestEnvironment.EnginesRequired && RootlessDockerHost.Missing() is { } missing) Skip = missing;
    }
}

internal sealed class RootlessTheoryAttribute : TheoryAttribute
{
    public RootlessTheoryAttribute()
    {
        if (new RootlessFactAttribute().Skip is { } why) Skip = why;
    }
}

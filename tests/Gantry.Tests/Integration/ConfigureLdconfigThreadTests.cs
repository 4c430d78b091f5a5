using Gantry.Host;
using Gantry.LdconfigSandbox;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// configure with a host ldconfig ('@PATH', what the runtime hook passes) runs it from a confined thread of the
// apply child through gantry-sandbox-exec, with no third gantry process; --no-pivot, a missing helper and the
// image's own ldconfig take the re-executed child. Either way no code of the image runs and nothing leaves the rootfs.
public sealed class ConfigureLdconfigThreadTests(SimulatedGpuHost host) : IClassFixture<SimulatedGpuHost>
{
    const string ThroughHelper = "through " + LdconfigThreadRunner.HelperName;
    const string ChildMarker = "from a re-executed child";

    static void AssertNothingLeft(ConfigureContainer c)
    {
        Assert.DoesNotContain(c.Mounts(), l => l.Contains("nvidia-ctk-hook", StringComparison.Ordinal));
        Assert.DoesNotContain("nvidia-ctk-hook", File.ReadAllText("/proc/self/mountinfo"));
        foreach (var line in c.Mounts())
            Assert.True(line.Split(' ')[4].StartsWith(c.Rootfs + "/", StringComparison.Ordinal), $"mount outside the rootfs: {line}");
    }

    [RootFact]
    public void The_host_ldconfig_runs_from_a_confined_thread_of_the_applier()
    {
        using var c = new ConfigureContainer(host);
        var r = c.ConfigureWith(["--debug=/dev/stderr"], ["--device=0", "--compute", "--utility", "--no-cgroups", "--ldconfig=@/sbin/ldconfig"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains(ThroughHelper, r.Stderr);
        Assert.Contains("(pid 1 in its PID namespace)", r.Stderr);
        Assert.DoesNotContain(ChildMarker, r.Stderr);
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", c.Inside("/sbin/ldconfig -p").Stdout);
        Assert.False(Directory.Exists(c.Tree.InRoot("/run/nvidia-ctk-hook")), "the scratch directory is removed");
        AssertNothingLeft(c);
        c.Tree.AssertSentinelUntouched();
    }

    // /etc and /run lead at the host (the cache and the scratch directory would land there if followed from the
    // host's root), and the image's /sbin/ldconfig (and .real) are scripts that leave a mark: the host binary runs,
    // inside the rootfs, and none of the image's code does.
    [RootFact]
    public void A_hostile_image_with_symlinked_etc_and_run_and_its_own_ldconfig_runs_none_of_its_code()
    {
        var escape = "../../../../../../../../..";
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            Directory.CreateDirectory(Path.Combine(t.Sentinel, "run"));
            t.WriteHostFile("run/keep.txt", "host run\n");
            t.Mkdir(t.Sentinel + "/etc"); // what the links name, inside the rootfs
            t.WriteFile(t.Sentinel + "/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
            Directory.Delete(t.InRoot("/etc"), recursive: true);
            t.Symlink("/etc", escape + t.Sentinel + "/etc");
            if (Directory.Exists(t.InRoot("/run"))) Directory.Delete(t.InRoot("/run"), recursive: true);
            t.Symlink("/run", t.Sentinel + "/run");
            ConfigureContainer.ScriptAsImageLdconfig(t, "echo ran > /image-ldconfig-ran\n");
            t.WriteFile("/sbin/ldconfig.real", "#!/bin/sh\necho ran > /image-ldconfig-real-ran\n");
            File.SetUnixFileMode(t.InRoot("/sbin/ldconfig.real"), (UnixFileMode)0b111_101_101);
        });
        var r = c.ConfigureWith(["--debug=/dev/stderr"], ["--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains(ThroughHelper, r.Stderr);
        Assert.False(File.Exists(c.Tree.InRoot("/image-ldconfig-ran")), "the image's ldconfig ran");
        Assert.False(File.Exists(c.Tree.InRoot("/image-ldconfig-real-ran")), "the image's ldconfig.real ran");
        var cache = File.ReadAllText(c.Tree.InRoot(c.Tree.Sentinel + "/etc/ld.so.cache"));
        Assert.Contains("libcuda.so.1", cache);
        // The scratch directory is removed (its parent stays: /run is the image's symlink, not followed to remove).
        var scratchParent = c.Tree.InRoot(c.Tree.Sentinel + "/run/nvidia-ctk-hook");
        Assert.True(!Directory.Exists(scratchParent) || Directory.GetFileSystemEntries(scratchParent).Length == 0, "the scratch directory is removed");
        AssertNothingLeft(c);
        c.Tree.AssertSentinelUntouched();
    }

    // The runtime hook finds the nvidia-container-cli beside it, a link to this same program, and runs configure in
    // its own process with the environment exec would have given it: the configured NVC_DEBUG_FILE reaches the CLI.
    [RootFact]
    public void The_runtime_hook_runs_configure_in_its_own_process_with_the_cli_environment()
    {
        using var c = new ConfigureContainer(host);
        var bundle = c.Tree.Base;
        File.WriteAllText(Path.Combine(bundle, "config.json"),
            """{"ociVersion":"1.2.0","process":{"env":["NVIDIA_VISIBLE_DEVICES=0","NVIDIA_DRIVER_CAPABILITIES=compute,utility"]},"root":{"path":"rootfs"}}""");
        var debugLog = Path.Combine(bundle, "cli-debug.log");
        File.WriteAllText(Path.Combine(bundle, "hook.toml"),
            $"[nvidia-container-cli]\nroot = \"{host.Root}\"\nldconfig = \"@/sbin/ldconfig\"\nenvironment = [\"NVC_DEBUG_FILE={debugLog}\"]\n");
        var state = $$"""{"ociVersion":"1.2.0","id":"x","status":"creating","pid":{{c.Pid}},"bundle":"{{bundle}}"}""";
        var hook = Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime-hook");
        var r = ProcessRunner.Run("sh", ["-c", $"NVIDIA_CTK_CONFIG_FILE_PATH='{bundle}/hook.toml' PATH=/usr/bin:/bin exec '{hook}' prestart"], state);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("nvidia0", c.Inside("ls /dev").Stdout);
        Assert.Contains("libcuda.so.1 (libc6,x86-64)", c.Inside("/sbin/ldconfig -p").Stdout);
        var log = File.ReadAllText(debugLog);
        Assert.Contains("configuring container with", log);
        Assert.Contains(ThroughHelper, log);
        AssertNothingLeft(c);
    }

    [RootFact]
    public void No_pivot_takes_the_re_executed_child()
    {
        using var c = new ConfigureContainer(host);
        var r = c.ConfigureWith(["--no-pivot", "--debug=/dev/stderr"], ["--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.DoesNotContain(ThroughHelper, r.Stderr);
        Assert.Contains(ChildMarker, r.Stderr);
        Assert.Contains("libcuda.so.1 (libc6,x86-64)", c.Inside("/sbin/ldconfig -p").Stdout);
        AssertNothingLeft(c);
    }

    // A gantry without its helper beside it (a partial install) still confines ldconfig, in the child.
    [RootFact]
    public void Without_the_helper_the_re_executed_child_runs_ldconfig()
    {
        using var bin = new TempDir();
        File.Copy(TestEnvironment.Gantry, bin["gantry"]);
        File.CreateSymbolicLink(bin["nvidia-container-cli"], "gantry");
        using var c = new ConfigureContainer(host);
        var r = TestEnvironment.Run(bin["nvidia-container-cli"], "--root", host.Root, "--debug=/dev/stderr", "configure", $"--pid={c.Pid}",
            "--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig", c.Rootfs);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains($"{LdconfigThreadRunner.HelperName} is not beside", r.Stderr);
        Assert.Contains(ChildMarker, r.Stderr);
        Assert.Contains("libcuda.so.1 (libc6,x86-64)", c.Inside("/sbin/ldconfig -p").Stdout);
        AssertNothingLeft(c);
    }
}

using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// One hostile image per advisory in security.md, each aimed at a host sentinel directory beside the rootfs:
// configure must neither create, change nor expose anything outside the rootfs, and either succeed (confined)
// or fail with one clear line and nothing left mounted.
public sealed class ConfigureHostileImageTests(SimulatedGpuHost host) : IClassFixture<SimulatedGpuHost>
{
    static void AssertNoMountOutside(ConfigureContainer c)
    {
        foreach (var line in c.Mounts())
        {
            var mountPoint = line.Split(' ')[4];
            Assert.True(mountPoint.StartsWith(c.Rootfs + "/", StringComparison.Ordinal), $"mount outside the rootfs: {line}");
        }
    }

    // CVE-2024-0132 / CVE-2024-0133: the library directory is a symlink to a host directory.
    [RootTheory]
    [InlineData("absolute")]
    [InlineData("dotdot")]
    public void A_library_directory_symlinked_at_the_host_stays_inside_the_rootfs(string kind)
    {
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            Directory.CreateDirectory(Path.Combine(t.Sentinel, "lib"));
            t.WriteHostFile("lib/host.txt", "host library dir\n");
            t.Mkdir("/usr/lib");
            Directory.Delete(t.InRoot("/usr/bin"));
            t.Symlink("/usr/lib/x86_64-linux-gnu", kind == "absolute" ? t.Sentinel + "/lib" : "../../../../../../../../.." + t.Sentinel + "/lib");
            t.Symlink("/usr/bin", kind == "absolute" ? t.Sentinel : "../../../../../../../.." + t.Sentinel);
        });
        var r = c.Configure("--device=0", "--compute", "--utility", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        AssertNoMountOutside(c);
        // The links were followed as if the rootfs were "/": the files landed under rootfs/<sentinel path>.
        Assert.Contains("libcuda.so.1", c.Inside($"ls {c.Tree.Sentinel}/lib").Stdout);
        Assert.True(File.Exists(c.Tree.InRoot(c.Tree.Sentinel + "/lib/libcuda.so.550.54.15")));
        c.Tree.AssertSentinelUntouched();
    }

    // CVE-2025-23359: /usr/local/cuda/compat points at a host directory full of "newer" libraries.
    [RootFact]
    public void A_symlinked_cuda_compat_directory_never_mounts_host_files()
    {
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            Directory.CreateDirectory(Path.Combine(t.Sentinel, "compat"));
            t.WriteHostFile("compat/libcuda.so.999.1.1", "not a library\n");
            t.Mkdir("/usr/local/cuda");
            t.Symlink("/usr/local/cuda/compat", t.Sentinel + "/compat");
        });
        var r = c.Configure("--compute", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.DoesNotContain(c.Mounts(), l => l.Contains("999"));
        AssertNoMountOutside(c);
        c.Tree.AssertSentinelUntouched();
    }

    // CVE-2025-23266: the hook ran with the container's environment; LD_PRELOAD reached a host process.
    [RootFact]
    public void LD_PRELOAD_in_the_environment_reaches_no_helper()
    {
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            t.WriteFile("/evil.so", "not a library\n");
            ConfigureContainer.ScriptAsImageLdconfig(t, "env > /env-seen\n");
        });
        var r = c.ConfigureWithEnvironment(new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = "/evil.so", ["LD_LIBRARY_PATH"] = "/", ["GANTRY_TEST_SECRET"] = "leaked",
        }, "--compute", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        var env = File.ReadAllText(c.Tree.InRoot("/env-seen"));
        Assert.DoesNotContain("LD_PRELOAD", env);
        Assert.DoesNotContain("LD_LIBRARY_PATH", env);
        Assert.DoesNotContain("GANTRY_TEST_SECRET", env);
        c.Tree.AssertSentinelUntouched();
    }

    // CVE-2025-23267: ld.so.cache and ld.so.conf.d of the image are symlinks at host files.
    [RootFact]
    public void Symlinked_ld_so_cache_and_conf_d_are_not_written_through()
    {
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            t.Symlink("/etc/ld.so.cache", t.Sentinel + "/etc/ld.so.cache");
            t.Symlink("/etc/ld.so.conf.d", t.Sentinel + "/etc/ld.so.conf.d");
            t.WriteFile("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
        });
        var r = c.Configure("--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("libcuda.so.1", c.Inside("/sbin/ldconfig -p").Stdout);
        c.Tree.AssertSentinelUntouched();
    }

    // CVE-2024-0135/0136/0137: image content steering a host process: a ld.so.preload and a fake /proc/PID.
    [RootFact]
    public void The_image_cannot_steer_host_processes_with_preload_files_or_a_fake_proc()
    {
        using var c = new ConfigureContainer(host, prepare: t =>
        {
            t.WriteFile("/etc/ld.so.preload", "/evil.so\n");
            t.WriteFile("/evil.so", "not a library\n");
        });
        var r = c.Configure("--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.DoesNotContain("evil", r.Stderr);

        // Standalone mode reads the process through the rootfs's /proc: a plain directory there is refused.
        using var s = new ConfigureContainer(host, prepare: t =>
        {
            // The CLI's parent is this test process: its pid is what standalone mode looks up.
            t.Mkdir($"/proc/{Environment.ProcessId}/ns");
            t.Symlink($"/proc/{Environment.ProcessId}/ns/mnt", "/proc/self/ns/mnt");
        });
        var standalone = TestEnvironment.Run(ConfigureContainer.Cli, "--root", host.Root, "configure", "--utility", "--no-cgroups", s.Rootfs);
        Assert.Equal(1, standalone.ExitCode);
        Assert.Contains("container error:", standalone.Stderr);
        c.Tree.AssertSentinelUntouched();
        s.Tree.AssertSentinelUntouched();
    }

    // CVE-2024-0132 / CVE-2026-24260: a racing thread swaps mount-target directories for symlinks to the host
    // while configure runs. Whatever it wins, nothing lands outside the rootfs.
    [RootTheory]
    [InlineData("/usr/lib64")]
    [InlineData("/dev")]
    [InlineData("/usr/bin")]
    [InlineData("/proc/driver")]
    public void A_symlink_swapped_during_configure_never_leads_out(string raced)
    {
        for (var round = 0; round < 3; round++)
        {
            using var c = new ConfigureContainer(host, debian: false);
            var dir = c.Tree.InRoot(raced);
            Directory.CreateDirectory(dir);
            var parked = dir + ".real";
            using var stop = new CancellationTokenSource();
            var racer = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        Directory.Move(dir, parked);
                        File.CreateSymbolicLink(dir, c.Tree.Sentinel);
                        Thread.SpinWait(50);
                        File.Delete(dir);
                        Directory.Move(parked, dir);
                    }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }) { IsBackground = true };
            racer.Start();
            var r = c.Configure("--device=0", "--compute", "--utility", "--no-cgroups");
            stop.Cancel();
            racer.Join();
            Assert.True(r.ExitCode is 0 or 1, r.Combined);
            if (r.ExitCode == 1) Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
            AssertNoMountOutside(c);
            Assert.DoesNotContain(File.ReadAllText("/proc/self/mountinfo").Split('\n'), l => l.Contains(c.Tree.Sentinel));
            c.Tree.AssertSentinelUntouched();
        }
    }
}

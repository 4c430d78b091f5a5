using Gantry.Host.Cgroups;
using Gantry.Tests.Host.Cgroups;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// nvidia-container-cli configure against a real process in new mount and PID namespaces on a simulated host:
// what the container sees afterwards, checked from inside its namespace.
public sealed class ConfigureTests(SimulatedGpuHost host) : IClassFixture<SimulatedGpuHost>
{
    [RootFact]
    public void One_gpu_with_compute_and_utility_is_exposed_read_only_with_its_libraries_cached()
    {
        using var c = new ConfigureContainer(host);
        var r = c.Configure("--device=1", "--compute", "--utility", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);

        var inside = c.Inside("ls /dev; echo ---; ls /usr/bin; echo ---; ls /proc/driver/nvidia/gpus; echo ---; /sbin/ldconfig -p; echo ---; nvidia-smi -L");
        Assert.True(inside.ExitCode == 0, inside.Combined);
        var parts = inside.Stdout.Split("---\n");
        var dev = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("nvidia1", dev);
        Assert.Contains("nvidiactl", dev);
        Assert.Contains("nvidia-uvm", dev);
        Assert.DoesNotContain("nvidia0", dev);
        Assert.DoesNotContain("nvidia-modeset", dev); // display only
        Assert.Contains("nvidia-smi", parts[1].Split('\n'));
        Assert.Equal(["0000:0f:00.0"], parts[2].Split('\n', StringSplitOptions.RemoveEmptyEntries)); // GPU 0's directory is hidden
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", parts[3]);
        Assert.Contains("libnvidia-ml.so.1 (libc6,x86-64)", parts[3]);
        Assert.StartsWith("GPU 1: ", parts[4]);

        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"));
        Assert.StartsWith("ro,nosuid,nodev", c.MountOptions("/usr/bin/nvidia-smi"));
        Assert.StartsWith("ro,nosuid,noexec", c.MountOptions("/dev/nvidia1"));
        Assert.StartsWith("rw,nosuid,nodev,noexec", c.MountOptions("/run/nvidia-persistenced/socket"));
        Assert.Equal("libcuda.so.1", c.Inside("readlink /usr/lib/x86_64-linux-gnu/libcuda.so").Stdout.Trim());
        Assert.Contains("ModifyDeviceFiles: 0", c.Inside("cat /proc/driver/nvidia/params").Stdout);
        Assert.DoesNotContain("nvidia-ctk-hook", string.Join('\n', c.Mounts()));
        Assert.False(Directory.Exists(Path.Combine(c.Rootfs, "run/nvidia-ctk-hook")), "the ldconfig scratch directory is removed");
        c.Tree.AssertSentinelUntouched();
    }

    [RootFact]
    public void Without_device_only_the_control_nodes_come_and_no_devbind_binds_none()
    {
        using var c = new ConfigureContainer(host);
        Assert.Equal(0, c.Configure("--utility", "--no-cgroups", "--ldconfig=@/sbin/ldconfig").ExitCode);
        Assert.Equal("nvidiactl", c.Inside("ls /dev | grep nvidia").Stdout.Trim());

        using var d = new ConfigureContainer(host);
        var r = d.Configure("--device=all", "--utility", "--no-devbind", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("", d.Inside("ls /dev | grep nvidia").Stdout.Trim());
        Assert.Contains("nvidia-smi", d.Inside("ls /usr/bin").Stdout);
    }

    [RootFact]
    public void Graphics_and_display_bring_modeset_and_the_application_profile_of_the_selected_gpus()
    {
        using var c = new ConfigureContainer(host);
        var r = c.Configure("--device=1", "--graphics", "--display", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("nvidia-modeset", c.Inside("ls /dev").Stdout);
        Assert.Contains("\"EGLVisibleDGPUDevices\", 0x2]", c.Inside("cat /etc/nvidia/nvidia-application-profiles-rc.d/10-container.conf").Stdout);
        Assert.Contains("libGLX_indirect.so.0", c.Inside("ls /usr/lib/x86_64-linux-gnu").Stdout);
        Assert.DoesNotContain("libcuda", c.Inside("ls /usr/lib/x86_64-linux-gnu").Stdout);
    }

    [RootFact]
    public void A_mig_device_brings_its_access_files_and_capability_nodes()
    {
        using var c = new ConfigureContainer(host);
        var r = c.Configure("--device=1:0", "--utility", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        var inside = c.Inside("find /proc/driver/nvidia/capabilities -name access; ls /dev/nvidia-caps");
        Assert.Matches(@"/proc/driver/nvidia/capabilities/gpu1/mig/gi\d+/access", inside.Stdout);
        Assert.Matches(@"/proc/driver/nvidia/capabilities/gpu1/mig/gi\d+/ci\d+/access", inside.Stdout);
        Assert.Matches(@"nvidia-cap\d+", inside.Stdout);
        Assert.Contains("nvidia1", c.Inside("ls /dev").Stdout);
    }

    [RootFact]
    public void Mig_config_all_binds_the_capabilities_and_the_caps_directory()
    {
        using var c = new ConfigureContainer(host);
        var r = c.Configure("--device=all", "--mig-config=all", "--utility", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        var inside = c.Inside("ls /proc/driver/nvidia/capabilities/mig; ls /dev/nvidia-caps");
        Assert.Contains("config\n", inside.Stdout);
        Assert.Matches(@"nvidia-cap\d+", inside.Stdout);
        Assert.StartsWith("ro,nosuid,nodev,noexec", c.MountOptions("/proc/driver/nvidia/capabilities"));
        Assert.StartsWith("rw,nosuid,noexec", c.MountOptions("/dev/nvidia-caps"));
    }

    [RootFact]
    public void An_imex_channel_is_bound_from_the_host()
    {
        var dir = Path.Combine(host.Root, "dev/nvidia-caps-imex-channels");
        Directory.CreateDirectory(dir);
        if (!File.Exists(Path.Combine(dir, "channel3")))
            Assert.Equal(0, TestEnvironment.Run("mknod", Path.Combine(dir, "channel3"), "c", "234", "3").ExitCode);
        using var c = new ConfigureContainer(host);
        var r = c.Configure("--imex-channel=3", "--utility", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("channel3", c.Inside("ls /dev/nvidia-caps-imex-channels").Stdout);
    }

    [RootFact]
    public void The_container_ldconfig_runs_by_default_on_the_library_directories_without_host_access()
    {
        // The image's "ldconfig" reports its arguments and tries to reach the host through /proc.
        using var c = new ConfigureContainer(host, prepare: t => ConfigureContainer.ScriptAsImageLdconfig(t,
            $"echo \"$@\" > /args-seen\necho x > /proc/1/root{t.Sentinel}/escaped\nexit 0\n"));
        var r = c.Configure("--compute", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("-f /etc/ld.so.conf -C /etc/ld.so.cache /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu", File.ReadAllText(c.Tree.InRoot("/args-seen")).Trim());
        Assert.False(File.Exists(Path.Combine(c.Tree.Sentinel, "escaped")));
        c.Tree.AssertSentinelUntouched();
    }

    // A static stand-in for the host ldconfig reports what its sandbox allows: prctl and socket are not on the
    // allow-list (EPERM = 1), and it gets the library directories as arguments.
    [RootFact]
    public void The_host_ldconfig_runs_under_a_seccomp_allow_list()
    {
        using var c = new ConfigureContainer(host);
        var probe = c.Tree.Base + "/probe";
        File.WriteAllText(probe + ".c", """
            #include <errno.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <sys/prctl.h>
            #include <sys/socket.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                errno = 0; int p = prctl(PR_GET_SECCOMP, 0, 0, 0, 0); int pe = errno;
                errno = 0; int s = socket(AF_UNIX, SOCK_STREAM, 0); int se = errno;
                char buf[512];
                int n = snprintf(buf, sizeof buf, "prctl=%d/%d socket=%d/%d last=%s\n", p, pe, s, se, argv[argc - 1]);
                int fd = open("/probe-result", O_WRONLY | O_CREAT | O_TRUNC, 0644);
                return write(fd, buf, n) == n ? 0 : 1;
            }
            """);
        var cc = TestEnvironment.Run("gcc", "-static", "-O2", "-o", probe, probe + ".c");
        Assert.True(cc.ExitCode == 0, "gcc -static (./test.sh installs gcc): " + cc.Combined);
        var r = c.Configure("--utility", "--no-cgroups", "--ldconfig=@" + probe);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Equal("prctl=-1/1 socket=-1/1 last=/usr/lib/i386-linux-gnu\n", File.ReadAllText(c.Tree.InRoot("/probe-result")));
    }

    [RootFact]
    public void No_pivot_runs_ldconfig_chrooted_with_the_same_result()
    {
        using var c = new ConfigureContainer(host);
        var r = c.ConfigureWith(["--no-pivot", "--debug=/dev/stderr"], ["--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig"]);
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("libcuda.so.1 (libc6,x86-64)", c.Inside("/sbin/ldconfig -p").Stdout);
        Assert.Contains("plan: ldconfig host /sbin/ldconfig /usr/lib/x86_64-linux-gnu /usr/lib/i386-linux-gnu", r.Stderr);
    }

    // What configure makes in the rootfs belongs to the container process's owner, as with the original's fsuid.
    [RootFact]
    public void Files_made_in_the_rootfs_belong_to_the_container_owner()
    {
        using var c = new ConfigureContainer(host, uid: 4321);
        var r = c.Configure("--device=0", "--compute", "--no-cgroups", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        foreach (var path in new[] { "/dev/nvidia0", "/proc/driver", "/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15" })
        {
            Assert.True(global::Gantry.Host.FileStatus.TryLstat(c.Tree.InRoot(path), out var st), path);
            Assert.True(st.Uid == 4321 && st.Gid == 4321, $"{path} is owned by {st.Uid}:{st.Gid}");
        }
        Assert.Contains("4321 4321", c.Inside("stat -c '%u %g' /usr/lib/x86_64-linux-gnu/libcuda.so /proc/driver/nvidia/params").Stdout);
    }

    [RootFact]
    public void A_missing_container_ldconfig_is_not_an_error()
    {
        using var c = new ConfigureContainer(host, prepare: t => File.Delete(t.InRoot("/sbin/ldconfig")));
        var r = c.Configure("--compute", "--no-cgroups");
        Assert.True(r.ExitCode == 0, r.Combined);
    }

    [RootFact]
    public void Cuda_compat_libraries_of_the_image_are_mounted_in_mount_mode_and_cached_in_ldconfig_mode()
    {
        void Compat(Gantry.Tests.Host.TestTree t)
        {
            var lib = Path.Combine(host.Root, "usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15");
            t.Mkdir("/usr/local/cuda-12.8/compat");
            File.Copy(lib, t.InRoot("/usr/local/cuda-12.8/compat/libcuda.so.570.86.10"));
            File.Copy(lib, t.InRoot("/usr/local/cuda-12.8/compat/libcuda.so.550.0.1")); // the driver's own major: never used
            t.Symlink("/usr/local/cuda", "cuda-12.8");
        }
        using var m = new ConfigureContainer(host, prepare: Compat);
        Assert.Equal(0, m.Configure("--compute", "--no-cgroups").ExitCode);
        Assert.Contains(m.Mounts(), l => l.Contains("/usr/local/cuda-12.8/compat/libcuda.so.570.86.10 " + m.Rootfs + "/usr/lib/x86_64-linux-gnu/libcuda.so.570.86.10"));
        Assert.DoesNotContain(m.Mounts(), l => l.Contains("libcuda.so.550.0.1"));

        using var l = new ConfigureContainer(host, prepare: Compat);
        var r = l.Configure("--compute", "--no-cgroups", "--cuda-compat-mode=ldconfig", "--ldconfig=@/sbin/ldconfig");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.DoesNotContain(l.Mounts(), x => x.Contains("compat/libcuda"));
        Assert.Contains("/usr/local/cuda-12.8/compat/libcuda.so.1", l.Inside("/sbin/ldconfig -p").Stdout);

        using var d = new ConfigureContainer(host, prepare: Compat);
        Assert.Equal(0, d.Configure("--compute", "--no-cgroups", "--no-cntlibs").ExitCode);
        Assert.DoesNotContain(d.Mounts(), x => x.Contains("compat/libcuda"));
    }

    // Standalone (no --pid), the README/enroot way: the CLI runs inside the new namespaces with the container's
    // /proc mounted in the rootfs, and configures the namespace of its parent process.
    [RootFact]
    public void Standalone_mode_configures_the_namespace_it_runs_in()
    {
        using var c = new ConfigureContainer(host);
        var r = TestEnvironment.Run("unshare", "-m", "-p", "--fork", "--propagation", "private", "sh", "-c",
            $"mount -t proc proc '{c.Rootfs}/proc' && '{ConfigureContainer.Cli}' --root '{host.Root}' configure --device=0 --utility " +
            $"--no-cgroups --ldconfig=@/sbin/ldconfig '{c.Rootfs}' && chroot '{c.Rootfs}' /bin/sh -c 'ls /dev; /sbin/ldconfig -p'");
        Assert.True(r.ExitCode == 0, r.Combined);
        Assert.Contains("nvidia0\n", r.Stdout);
        Assert.DoesNotContain("nvidia1\n", r.Stdout);
        Assert.Contains("libnvidia-ml.so.1 (libc6,x86-64)", r.Stdout);
        Assert.DoesNotContain(c.Rootfs, File.ReadAllText("/proc/self/mountinfo")); // the host's namespace saw none of it
    }

    [RootFact]
    public void A_failure_midway_undoes_every_mount_and_removes_the_files_it_made()
    {
        // The library target is a directory in the image: binaries and some libraries are mounted by then.
        using var c = new ConfigureContainer(host, prepare: t => t.Mkdir("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"));
        var r = c.Configure("--device=0", "--compute", "--utility", "--no-cgroups");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"nvidia-container-cli: mount error: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15: is a directory\n", r.Stderr);
        Assert.Empty(c.Mounts());
        Assert.False(File.Exists(c.Tree.InRoot("/usr/bin/nvidia-smi")), "the empty mount target is removed");
        Assert.False(File.Exists(c.Tree.InRoot("/dev/nvidiactl")));
        Assert.False(Directory.Exists(c.Tree.InRoot("/proc/driver")), "directories it made are removed");
        Assert.True(Directory.Exists(c.Tree.InRoot("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15")));
    }

    // A devices cgroup below one that denies everything: adding a rule there fails (v1), after the mounts.
    [CgroupFact(CgroupVersion.V1)]
    public void A_device_cgroup_failure_undoes_the_mounts()
    {
        using var c = new ConfigureContainer(host);
        using var denying = new KernelCgroup(KernelCgroup.V1DevicesMount);
        File.WriteAllText(Path.Combine(denying.Path, "devices.deny"), "a");
        using var inner = new KernelCgroup(denying.Path);
        inner.Add(c.Pid);
        var r = c.Configure("--device=0", "--utility");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("nvidia-container-cli: mount error: failed to add device rules: ", r.Stderr);
        Assert.Empty(c.Mounts());
        Assert.False(File.Exists(c.Tree.InRoot("/dev/nvidia0")));
    }

    [CgroupFact(CgroupVersion.V1)]
    public void The_device_cgroup_gets_a_rule_for_every_exposed_node()
    {
        using var c = new ConfigureContainer(host);
        using var cgroup = new KernelCgroup(KernelCgroup.V1DevicesMount);
        File.WriteAllText(Path.Combine(cgroup.Path, "devices.deny"), "a");
        cgroup.Add(c.Pid);
        var r = c.Configure("--device=1", "--compute");
        Assert.True(r.ExitCode == 0, r.Combined);
        var list = File.ReadAllLines(Path.Combine(cgroup.Path, "devices.list"));
        Assert.Equal(["c 195:1 rw", "c 195:255 rw", "c 510:0 rw", "c 510:1 rw"], list.Order(StringComparer.Ordinal));
    }
}

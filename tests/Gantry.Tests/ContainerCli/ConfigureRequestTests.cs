using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.ContainerCli;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;

namespace Gantry.Tests.ContainerCli;

// configure's options as the original parses them, the rootfs probing, and the /proc/PID/stat start time.
public sealed class ConfigureRequestTests
{
    static ConfigureRequest Parse(params string[] args) =>
        ConfigureRequest.From(Argp.Parse("nvidia-container-cli configure", args, ConfigureRequest.Options, inOrder: false));

    [Fact]
    public void The_toolkit_hook_argv_parses_into_the_request()
    {
        // The argv nvidia-container-runtime-hook builds (toolkit.md §1.5), after the global options.
        var r = Parse("--cuda-compat-mode=ldconfig", "--ldconfig=@/sbin/ldconfig.real", "--no-cgroups", "--device=0,1", "--mig-config=all",
            "--imex-channel=1,2", "--compute", "--compat32", "--utility", "--require=cuda>=12.0", "--require=brand=tesla", "--pid=42", "/rootfs");
        Assert.Equal(42, r.Pid);
        Assert.Equal("/rootfs", r.Rootfs);
        Assert.Equal("0,1", r.Devices);
        Assert.Equal(["cuda>=12.0", "brand=tesla"], r.Requirements);
        Assert.Equal("@/sbin/ldconfig.real", r.Ldconfig);
        Assert.Equal(DriverCapability.Compute | DriverCapability.Compat32 | DriverCapability.Utility, r.Capabilities);
        Assert.True(r.NoCgroups);
        Assert.Equal(CudaCompatMode.Ldconfig, r.CompatMode);
        Assert.Equal("all", r.MigConfig);
        Assert.Equal("1,2", r.ImexChannels);
    }

    [Fact]
    public void The_other_capabilities_and_the_leave_out_options_reach_the_request()
    {
        var r = Parse("--video", "--graphics", "--display", "--ngx", "--mig-monitor=all", "--no-devbind", "--no-persistenced",
            "--no-fabricmanager", "--no-gsp-firmware", "/rootfs");
        Assert.Equal(DriverCapability.Video | DriverCapability.Graphics | DriverCapability.Display | DriverCapability.Ngx, r.Capabilities);
        Assert.Equal("all", r.MigMonitor);
        Assert.True(r.NoDevbind);
        Assert.Equal(new DriverOptions(true, true, true), r.DriverOptions);
    }

    [Fact]
    public void Short_options_after_the_command_mean_configure_options()
    {
        var r = Parse("-d", "1", "-r", "driver>=500", "-l", "/sbin/ldconfig", "-cuvgDn", "-p7", "/rootfs");
        Assert.Equal("1", r.Devices);
        Assert.Equal(["driver>=500"], r.Requirements);
        Assert.Equal("/sbin/ldconfig", r.Ldconfig);
        Assert.Equal(7, r.Pid);
        Assert.Equal(DriverCapability.Compute | DriverCapability.Utility | DriverCapability.Video | DriverCapability.Graphics |
                     DriverCapability.Display | DriverCapability.Ngx, r.Capabilities);
        Assert.Null(Parse("--utility", "/r").Pid);
        Assert.Equal(CudaCompatMode.Disabled, Parse("--cuda-compat-mode=mount", "--no-cntlibs", "/r").CompatMode);
    }

    [Theory]
    [InlineData(new[] { "--pid=abc", "/r" }, "input error: parse pid failed: invalid argument")]
    [InlineData(new[] { "--pid=99999999999", "/r" }, "input error: parse pid failed: numerical result out of range")]
    [InlineData(new[] { "--pid=0", "/r" }, "input error: parse pid failed: invalid argument")]
    [InlineData(new[] { "rootfs" }, "input error: invalid rootfs directory")]
    [InlineData(new[] { "/" }, "input error: invalid rootfs directory")]
    [InlineData(new[] { "--cuda-compat-mode=hook", "/r" }, "container error: invalid option: cuda-compat-mode=hook")]
    public void Bad_values_get_the_original_message(string[] args, string message)
    {
        var e = Assert.Throws<ContainerCliException>(() => Parse(args));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void More_than_32_requirements_are_refused()
    {
        var args = Enumerable.Repeat("--require=cuda>=1", 33).Append("/r").ToArray();
        Assert.Equal("input error: too many requirements", Assert.Throws<ContainerCliException>(() => Parse(args)).Message);
    }

    [Fact]
    public void The_start_time_is_field_22_even_with_spaces_and_parentheses_in_the_name()
    {
        var stat = "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615";
        Assert.Equal(987654UL, ContainerProcess.ParseStartTime(stat));
        Assert.Null(ContainerProcess.ParseStartTime("garbage"));
        Assert.NotNull(ContainerProcess.ParseStartTime(File.ReadAllText("/proc/self/stat")));
    }

    [Theory]
    [InlineData("debian", "/usr/lib/x86_64-linux-gnu", "/usr/lib/i386-linux-gnu")]
    [InlineData("lib32", "/usr/lib64", "/usr/lib32")]
    [InlineData("usrlib", "/usr/lib64", "/usr/lib")]
    [InlineData("usrlib-is-lib64", "/usr/lib64", "/usr/lib32")]
    public void The_library_directories_follow_the_image(string kind, string libs, string libs32)
    {
        using var t = new TestTree();
        switch (kind)
        {
            case "debian": t.WriteFile("/etc/debian_version", "12\n"); break;
            case "lib32": t.Mkdir("/usr/lib32"); t.Mkdir("/usr/lib"); break;
            case "usrlib": t.Mkdir("/usr/lib"); t.Mkdir("/usr/lib64"); break;
            case "usrlib-is-lib64": t.Mkdir("/usr/lib64"); t.Symlink("/usr/lib", "lib64"); break;
        }
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        var layout = ContainerLayout.Probe(root, wantCompatLibs: false, Architecture.X64, Log.Silent);
        Assert.Equal(libs, layout.LibsDir);
        Assert.Equal(libs32, layout.Libs32Dir);
        Assert.Equal("/sbin/ldconfig", layout.Ldconfig);
    }

    [Fact]
    public void Compat_libraries_are_found_at_their_resolved_path_and_a_link_out_of_the_rootfs_stays_in()
    {
        using var t = new TestTree();
        t.WriteFile("/usr/local/cuda-12.8/compat/libcuda.so.570.1", "x");
        t.Symlink("/usr/local/cuda-12.8/compat/libcuda.so.1", "libcuda.so.570.1");
        t.Symlink("/usr/local/cuda", "/usr/local/cuda-12.8");
        t.WriteFile("/sbin/ldconfig.real", "x");
        using (var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root))
        {
            var layout = ContainerLayout.Probe(root, wantCompatLibs: true, Architecture.X64, Log.Silent);
            Assert.Equal(["/usr/local/cuda-12.8/compat/libcuda.so.570.1"], layout.CompatLibs);
            Assert.Equal("/sbin/ldconfig.real", layout.Ldconfig);
        }

        using var h = new TestTree();
        Directory.CreateDirectory(Path.Combine(h.Sentinel, "compat"));
        h.WriteHostFile("compat/libcuda.so.999.1", "host");
        h.Symlink("/usr/local/cuda/compat", h.Sentinel + "/compat");
        using var hostile = ContainerRoot.Open(LinuxSyscalls.Instance, h.Root);
        Assert.Empty(ContainerLayout.Probe(hostile, wantCompatLibs: true, Architecture.X64, Log.Silent).CompatLibs);
    }
}

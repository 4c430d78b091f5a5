using Gantry.Host;

namespace Gantry.Tests.Host;

public sealed class HostRootsTests
{
    [Theory]
    [InlineData("/", "/usr/lib/libcuda.so", "/usr/lib/libcuda.so")]
    [InlineData("/run/nvidia/driver", "/usr/lib/libcuda.so", "/run/nvidia/driver/usr/lib/libcuda.so")]
    [InlineData("/run/nvidia/driver", "usr/lib", "/run/nvidia/driver/usr/lib")]
    public void Join_puts_a_path_under_a_root(string root, string path, string expected) =>
        Assert.Equal(expected, HostRoots.Join(root, path));

    [Theory]
    [InlineData("/driver", "/driver/usr/lib/x", "/usr/lib/x")]
    [InlineData("/driver", "/driver-backup/usr/lib/x", "/driver-backup/usr/lib/x")]
    [InlineData("/driver", "/driver", "/")]
    [InlineData("/", "/usr/lib/x", "/usr/lib/x")]
    public void Stripping_the_root_happens_only_at_a_component_boundary(string root, string hostPath, string expected) =>
        Assert.Equal(expected, HostRoots.StripRoot(root, hostPath));

    [Fact]
    public void A_plain_root_reads_the_hosts_own_proc_and_sys()
    {
        var r = new HostRoots("/");
        Assert.Equal("/proc", r.ProcRoot);
        Assert.Equal("/sys", r.SysRoot);
        Assert.Equal("/", r.DevRoot);
    }

    [Fact]
    public void A_root_with_its_own_proc_driver_tree_answers_for_proc()
    {
        var dir = Directory.CreateTempSubdirectory("gantry-roots-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "proc/driver/nvidia"));
            var r = new HostRoots(dir + "/");
            Assert.Equal(dir, r.DriverRoot);
            Assert.Equal(dir + "/proc", r.ProcRoot);
            Assert.Equal("/sys", r.SysRoot);
        }
        finally { Directory.Delete(dir, true); }
    }
}

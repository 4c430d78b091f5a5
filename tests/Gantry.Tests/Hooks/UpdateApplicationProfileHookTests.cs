using Gantry.Tests.Support;
using System.Diagnostics;
using Gantry.Hooks;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class UpdateApplicationProfileHookTests
{
    [Theory]
    [InlineData(0b1UL, "0x1")]
    [InlineData(0b1010UL, "0xa")]
    [InlineData(1UL << 63, "0x8000000000000000")]
    public void The_profile_text_is_exact(ulong mask, string hex) =>
        Assert.Equal("{\"profiles\":[{\"name\":\"_container_\",\"settings\":[\"EGLVisibleDGPUDevices\"," + hex +
                     "]}],\"rules\":[{\"pattern\":[],\"profile\":\"_container_\"}]}", UpdateApplicationProfileHook.Profile(mask));

    static void Mknod(string path, int major, int minor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var p = Process.Start("mknod", [path, "c", major.ToString(), minor.ToString()])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [RootTheory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void GPU_nodes_become_the_EGL_device_mask(string kind)
    {
        using var t = new TestTree();
        Mknod(t.InRoot("/dev/nvidia0"), 195, 0);
        Mknod(t.InRoot("/dev/nvidia3"), 195, 3);
        Mknod(t.InRoot("/dev/nvidia99"), 195, 99);   // minor out of range: warned and dropped
        Mknod(t.InRoot("/dev/nvidiactl"), 195, 255); // not a GPU node
        t.WriteFile("/dev/nvidia5", "not a device");
        var h = new HookHarness(t, Resolvers.For(kind));
        h.Invoke(new UpdateApplicationProfileHook());
        var file = t.InRoot(UpdateApplicationProfileHook.ProfileDir + "/" + UpdateApplicationProfileHook.ProfileFile);
        Assert.Equal(UpdateApplicationProfileHook.Profile(0b1001), File.ReadAllText(file));
        Assert.Equal((UnixFileMode)0b100_100_100, File.GetUnixFileMode(file));
        Assert.Equal((UnixFileMode)0b101_101_101, File.GetUnixFileMode(t.InRoot(UpdateApplicationProfileHook.ProfileDir)));
        Assert.Contains("minor 99", h.LogText);
    }

    [Fact]
    public void No_GPU_nodes_means_no_profile()
    {
        using var t = new TestTree();
        t.Mkdir("/dev");
        new HookHarness(t).Invoke(new UpdateApplicationProfileHook());
        Assert.False(Directory.Exists(t.InRoot("/etc")));
    }

    [RootTheory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_profile_directory_symlinked_to_the_host_stays_inside_the_root(string kind)
    {
        using var t = new TestTree();
        Mknod(t.InRoot("/dev/nvidia0"), 195, 0);
        t.Symlink("/etc/nvidia", t.Sentinel);
        new HookHarness(t, Resolvers.For(kind)).Invoke(new UpdateApplicationProfileHook());
        t.AssertSentinelUntouched();
        Assert.True(File.Exists(t.InRoot(t.Sentinel + "/nvidia-application-profiles-rc.d/10-container.conf")));
    }
}

using Gantry.Common;
using Gantry.Tests.Support;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class DisableDeviceNodeModificationHookTests
{
    [Theory]
    [InlineData("A: 1\nModifyDeviceFiles: 1\nB: 2\n", "A: 1\nModifyDeviceFiles: 0\nB: 2\n")]
    [InlineData("A: 1\nModifyDeviceFiles: 1", "A: 1\nModifyDeviceFiles: 0\n")]
    [InlineData("A: 1\nModifyDeviceFiles: 0\n", null)]
    [InlineData("A: 1\n", null)]
    [InlineData("ModifyDeviceFiles: 10\n", null)]
    public void Only_ModifyDeviceFiles_1_is_rewritten(string input, string? expected) =>
        Assert.Equal(expected, DisableDeviceNodeModificationHook.Rewrite(input));

    static void WriteHostParams(TestTree t, string text)
    {
        Directory.CreateDirectory(Path.Combine(t.Base, "proc/driver/nvidia"));
        File.WriteAllText(Path.Combine(t.Base, "proc/driver/nvidia/params"), text);
    }

    [Fact]
    public void Without_host_params_or_with_modification_already_off_nothing_happens()
    {
        using var t = new TestTree();
        new HookHarness(t).Invoke(new DisableDeviceNodeModificationHook());
        WriteHostParams(t, "ModifyDeviceFiles: 0\n");
        new HookHarness(t).Invoke(new DisableDeviceNodeModificationHook());
        Assert.Empty(Directory.GetFileSystemEntries(t.Root));
    }

    [RootTheory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void The_container_sees_a_read_only_copy_with_modification_disabled(string kind)
    {
        using var t = new TestTree();
        WriteHostParams(t, "DeviceFileUID: 0\nModifyDeviceFiles: 1\n");
        t.WriteFile("/proc/driver/nvidia/params", "DeviceFileUID: 0\nModifyDeviceFiles: 1\n");
        var sys = new RecordingSyscalls();
        PrivateMountNamespace.Run(() =>
        {
            new HookHarness(t, kind == "walk" ? new WalkAndRecord(sys) : sys).Invoke(new DisableDeviceNodeModificationHook());
            var seen = t.InRoot("/proc/driver/nvidia/params");
            Assert.Equal("DeviceFileUID: 0\nModifyDeviceFiles: 0\n", File.ReadAllText(seen));
            Assert.Throws<IOException>(() => File.WriteAllText(seen, "ModifyDeviceFiles: 1\n")); // EROFS
            Assert.Equal((UnixFileMode)0b100_100_100, File.GetUnixFileMode(seen));
            Assert.Empty(Directory.GetFileSystemEntries(t.InRoot("/run"))); // scratch mount point detached and removed
        });
        // Outside the private namespace the rootfs file is untouched.
        Assert.Equal("DeviceFileUID: 0\nModifyDeviceFiles: 1\n", File.ReadAllText(t.InRoot("/proc/driver/nvidia/params")));
        Assert.All(sys.Mounts, m => Assert.StartsWith("/proc/self/fd/", m.Target));
        Assert.All(sys.Mounts.Where(m => m.Source is not null && m.Source.StartsWith('/')), m => Assert.StartsWith("/proc/self/fd/", m.Source));
    }

    sealed class WalkAndRecord(RecordingSyscalls recorder) : ForwardingSyscalls(recorder)
    {
        public override int OpenAt2(int dirfd, string path, int flags, int mode, ulong resolve) => -Errno.ENOSYS;
    }

    // CVE-2024-0132 class: the mount target is a symlink to a host file; it must never be mounted over.
    [RootTheory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_params_symlink_to_a_host_file_is_refused(string kind)
    {
        using var t = new TestTree();
        WriteHostParams(t, "ModifyDeviceFiles: 1\n");
        t.Symlink("/proc/driver/nvidia/params", t.Sentinel + "/params");
        string? mountinfo = null;
        PrivateMountNamespace.Run(() =>
        {
            var e = Assert.Throws<GantryException>(() => new HookHarness(t, Resolvers.For(kind)).Invoke(new DisableDeviceNodeModificationHook()));
            Assert.Contains("not a regular file", e.Message);
            mountinfo = File.ReadAllText("/proc/thread-self/mountinfo");
        });
        Assert.DoesNotContain(t.Sentinel, mountinfo);
        Assert.DoesNotContain(t.Root, mountinfo);
        t.AssertSentinelUntouched();
    }
}

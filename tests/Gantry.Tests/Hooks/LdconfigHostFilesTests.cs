using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Hooks;

// The host files the confined ldconfig thread attaches (detached open_tree clones) and the ways that path steps
// aside for the re-executed child: a kernel that cannot clone mounts, a thread that cannot unshare.
public sealed class LdconfigHostFilesTests
{
    static string Helper => Path.Combine(TestEnvironment.BinDir, LdconfigThreadRunner.HelperName);

    sealed class NoCloneMount() : ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public override int CloneMount(int fd) => -Errno.ENOSYS;
    }

    sealed class NoThreadUnshare() : ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public override int Unshare(int flags) => -Errno.EINVAL;
    }

    [Fact]
    public void A_dynamically_linked_program_is_refused_before_anything_is_cloned()
    {
        var dynamic = new[] { "/bin/sh", "/usr/bin/env" }.First(File.Exists);
        var e = Assert.Throws<GantryException>(() => LdconfigHostFiles.TryOpen(LinuxSyscalls.Instance, dynamic, dynamic, out _));
        Assert.Contains("dynamically linked", e.Message);
    }

    [RootFact]
    public void A_kernel_that_cannot_clone_mounts_gets_the_reason_and_no_files()
    {
        if (!File.Exists(Helper) || !File.Exists("/sbin/ldconfig")) return;
        Assert.Null(LdconfigHostFiles.TryOpen(new NoCloneMount(), "/sbin/ldconfig", Helper, out var whyNot));
        Assert.Equal("open_tree /sbin/ldconfig: " + Errno.Describe(Errno.ENOSYS), whyNot);
    }

    [RootFact]
    public void The_clones_are_the_host_files()
    {
        if (!File.Exists(Helper) || !File.Exists("/sbin/ldconfig")) return;
        using var files = LdconfigHostFiles.TryOpen(LinuxSyscalls.Instance, "/sbin/ldconfig", Helper, out _);
        Assert.NotNull(files);
        Assert.True(FileStatus.TryLstat("/sbin/ldconfig", out var host));
        Assert.Equal(0, LinuxSyscalls.Instance.Statx(files!.Ldconfig.Value, "", At.EmptyPath, out var clone));
        Assert.True(clone.SameFileAs(host));
    }

    [RootFact]
    public void A_thread_that_cannot_unshare_reports_false_and_touches_nothing()
    {
        if (!File.Exists(Helper) || !File.Exists("/sbin/ldconfig")) return;
        using var t = new TestTree();
        var sys = new NoThreadUnshare();
        var h = new HookHarness(t, sys);
        using var files = LdconfigHostFiles.TryOpen(sys, "/sbin/ldconfig", Helper, out _)!;
        Assert.False(new LdconfigThreadRunner(h.Context.Ldconfig).TryRun(t.Root, files, "ldconfig-test", ["/usr/lib"]));
        Assert.Empty(Directory.GetFileSystemEntries(t.Root));
        t.AssertSentinelUntouched();
    }
}

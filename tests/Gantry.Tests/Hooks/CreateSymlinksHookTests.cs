using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class CreateSymlinksHookTests
{
    [Theory]
    [InlineData("a::b", true)]
    [InlineData("libcuda.so.1::/usr/lib/libcuda.so", true)]
    [InlineData("a", false)]
    [InlineData("a::b::c", false)]
    [InlineData("::b", false)]
    [InlineData("a::", false)]
    public void Link_specs_are_target_double_colon_link(string spec, bool valid)
    {
        if (valid) Assert.Single(CreateSymlinksHook.ParseLinks([spec, spec]));
        else Assert.Contains("invalid symlink specification", Assert.Throws<GantryException>(() => CreateSymlinksHook.ParseLinks([spec])).Message);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Links_are_created_with_their_parents_and_the_target_verbatim(string kind)
    {
        using var t = new TestTree();
        new HookHarness(t, Resolvers.For(kind)).Invoke(new CreateSymlinksHook(),
            "--link", "libcuda.so.1::/usr/lib64/libcuda.so", "--link", "/usr/lib64/libnvidia-ml.so.1::/usr/lib64/deep/dir/libnvidia-ml.so");
        Assert.Equal("libcuda.so.1", new FileInfo(t.InRoot("/usr/lib64/libcuda.so")).LinkTarget);
        Assert.Equal("/usr/lib64/libnvidia-ml.so.1", new FileInfo(t.InRoot("/usr/lib64/deep/dir/libnvidia-ml.so")).LinkTarget);
    }

    [Fact]
    public void An_identical_link_is_left_alone_and_anything_else_is_replaced()
    {
        using var t = new TestTree();
        t.Symlink("/lib/same", "target");
        t.Symlink("/lib/other", "old-target");
        t.WriteFile("/lib/file", "regular file");
        var before = File.GetLastWriteTimeUtc(t.InRoot("/lib/same"));
        Thread.Sleep(20);
        var h = new HookHarness(t);
        h.Invoke(new CreateSymlinksHook(), "--link", "target::/lib/same", "--link", "target::/lib/other", "--link", "target::/lib/file");
        Assert.Equal(before, File.GetLastWriteTimeUtc(t.InRoot("/lib/same")));
        Assert.Contains("already a symlink", h.LogText);
        Assert.Equal("target", new FileInfo(t.InRoot("/lib/other")).LinkTarget);
        Assert.Equal("target", new FileInfo(t.InRoot("/lib/file")).LinkTarget);
        Assert.Equal(3, Directory.GetFileSystemEntries(t.InRoot("/lib")).Length); // no temp names left behind
    }

    // Hostile images (CVE-2024-0133 class: creating files on the host by following image symlinks).
    [Theory]
    [InlineData("openat2", "/../../../../host/evil")]
    [InlineData("walk", "/../../../../host/evil")]
    [InlineData("openat2", "/escape/evil")]
    [InlineData("walk", "/escape/evil")]
    [InlineData("openat2", "/escape-rel/evil")]
    [InlineData("walk", "/escape-rel/evil")]
    [InlineData("openat2", "/escape/../escape/sub/evil")]
    [InlineData("walk", "/escape/../escape/sub/evil")]
    public void Link_paths_through_dot_dot_or_host_symlinks_stay_in_the_root(string kind, string link)
    {
        using var t = new TestTree();
        t.Symlink("/escape", t.Sentinel);
        t.Symlink("/escape-rel", "../../../../../" + t.Sentinel.TrimStart('/'));
        try { new HookHarness(t, Resolvers.For(kind)).Invoke(new CreateSymlinksHook(), "--link", "/etc/shadow::" + link); }
        catch (GantryException) { } // failing is acceptable; touching the host is not
        t.AssertSentinelUntouched();
    }

    [Fact]
    public void A_racing_swap_of_a_directory_for_a_host_symlink_never_reaches_the_host()
    {
        using var t = new TestTree();
        t.Mkdir("/a");
        using var stop = new CancellationTokenSource();
        var dir = t.InRoot("/a");
        var aside = t.InRoot("/a-aside");
        var racer = new Thread(() =>
        {
            // Swap /a between a real directory and a symlink to the host sentinel as fast as possible.
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Directory.Move(dir, aside);
                    File.CreateSymbolicLink(dir, t.Sentinel);
                    File.Delete(dir);
                    Directory.Move(aside, dir);
                }
                catch (IOException) { }
            }
        });
        racer.Start();
        try
        {
            using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
            using var walkRoot = ContainerRoot.Open(new NoOpenat2Syscalls(), t.Root);
            for (var i = 0; i < 400; i++)
            {
                try { CreateSymlinksHook.Create(i % 2 == 0 ? root : walkRoot, "/etc/passwd", $"/a/b/link{i}", Log.Silent); }
                catch (GantryException) { }
            }
        }
        finally
        {
            stop.Cancel();
            racer.Join();
        }
        t.AssertSentinelUntouched();
    }
}

using Gantry.Host;

namespace Gantry.Tests.Host;

public sealed class ContainerRootTests
{
    static ContainerRoot Open(TestTree t, string kind) => ContainerRoot.Open(Resolvers.For(kind), t.Root);

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Plain_paths_resolve_to_the_file_inside_the_root(string kind)
    {
        using var t = new TestTree();
        t.WriteFile("/etc/os-release", "x");
        using var root = Open(t, kind);
        using var fd = root.Open("/etc/os-release", O.Path);
        Assert.Equal("/etc/os-release", root.ContainerPathOf(fd));
        Assert.Equal(kind == "openat2", root.UsesOpenat2);
    }

    // Symlink targets and ".." chains as an image would plant them; each must land inside the root.
    public static TheoryData<string, string, string, string> Links => new()
    {
        // kind, link path, link target, expected container path of the resolved file
        { "openat2", "/a/abs", "/etc/target", "/etc/target" },
        { "walk", "/a/abs", "/etc/target", "/etc/target" },
        { "openat2", "/a/rel", "../../../../../../etc/target", "/etc/target" },
        { "walk", "/a/rel", "../../../../../../etc/target", "/etc/target" },
        { "openat2", "/a/chain", "/a/abs", "/etc/target" },
        { "walk", "/a/chain", "/a/abs", "/etc/target" },
        { "openat2", "/a/root", "/", "/" },
        { "walk", "/a/root", "/", "/" },
    };

    [Theory, MemberData(nameof(Links))]
    public void Symlinks_are_resolved_as_if_the_root_were_slash(string kind, string link, string target, string expected)
    {
        using var t = new TestTree();
        t.WriteFile("/etc/target", "inside");
        t.Symlink("/a/abs", "/etc/target");
        if (link != "/a/abs") t.Symlink(link, target);
        using var root = Open(t, kind);
        using var fd = root.Open(link, O.Path);
        Assert.Equal(expected, root.ContainerPathOf(fd));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Dot_dot_chains_are_clamped_at_the_root(string kind)
    {
        using var t = new TestTree();
        t.WriteFile("/keep.txt", "inside");
        using var root = Open(t, kind);
        using var fd = root.Open("/../../../../keep.txt", O.RdOnly);
        Assert.Equal("/keep.txt", root.ContainerPathOf(fd));
        Assert.Equal("inside", System.Text.Encoding.UTF8.GetString(root.ReadAll("../../../keep.txt")));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_symlink_to_a_host_path_never_reaches_the_host(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/escape", t.Sentinel);          // absolute host path
        t.Symlink("/escape2", "../host");          // relative, climbing out of rootfs/
        using var root = Open(t, kind);
        Assert.False(root.TryOpen("/escape/keep.txt", O.RdOnly, out _, out var e1));
        Assert.Equal(Errno.ENOENT, e1);
        Assert.False(root.TryOpen("/escape2/keep.txt", O.RdOnly, out _, out var e2));
        Assert.Equal(Errno.ENOENT, e2);
        t.AssertSentinelUntouched();
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Symlink_loops_end_in_ELOOP(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/loop1", "/loop2");
        t.Symlink("/loop2", "/loop1");
        using var root = Open(t, kind);
        Assert.False(root.TryOpen("/loop1/x", O.Path, out _, out var errno));
        Assert.Equal(Errno.ELOOP, errno);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void O_NOFOLLOW_looks_at_a_final_symlink_itself(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/link", "/nowhere");
        using var root = Open(t, kind);
        Assert.True(root.StatOrNull("/link", followFinal: false)!.Value.IsSymlink);
        Assert.Null(root.StatOrNull("/link"));
        Assert.False(root.TryOpen("/link", O.RdOnly | O.NoFollow, out _, out var errno));
        Assert.Equal(Errno.ELOOP, errno);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void MkdirAll_creates_through_a_host_symlink_inside_the_root(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/etc", t.Sentinel + "/etc"); // the image's /etc points at the host's
        using var root = Open(t, kind);
        using (var dir = root.MkdirAll("/etc/ld.so.conf.d/sub", 0b111_101_101))
            Assert.Equal(t.Sentinel + "/etc/ld.so.conf.d/sub", root.ContainerPathOf(dir));
        Assert.True(Directory.Exists(t.InRoot(t.Sentinel + "/etc/ld.so.conf.d/sub")));
        t.AssertSentinelUntouched();
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void CreateExclusive_refuses_a_planted_symlink(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/etc/victim", t.Sentinel + "/keep.txt");
        using var root = Open(t, kind);
        using var etc = root.OpenDirectory("/etc");
        var e = Assert.Throws<SyscallException>(() => root.CreateExclusive(etc, "victim", 0b110_100_100, "/etc/victim"));
        Assert.Equal(Errno.EEXIST, e.Errno);
        t.AssertSentinelUntouched();
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void ReplaceFile_swaps_content_atomically_and_replaces_a_symlink_not_its_target(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/etc/file", t.Sentinel + "/keep.txt");
        using var root = Open(t, kind);
        using var etc = root.OpenDirectory("/etc");
        root.ReplaceFile(etc, "file", "new\n"u8, 0b100_100_100, "/etc/file");
        Assert.Equal("new\n", File.ReadAllText(t.InRoot("/etc/file")));
        Assert.Null(new FileInfo(t.InRoot("/etc/file")).LinkTarget);
        Assert.Single(Directory.GetFileSystemEntries(t.InRoot("/etc")));
        t.AssertSentinelUntouched();
    }

    [Fact]
    public void The_component_walk_is_used_only_when_openat2_is_missing()
    {
        using var t = new TestTree();
        var sys = new NoOpenat2Syscalls();
        using var root = ContainerRoot.Open(sys, t.Root);
        Assert.True(root.UsesOpenat2);
        using (root.OpenDirectory("/")) { }
        Assert.False(root.UsesOpenat2);
        using (root.OpenDirectory("/")) { }
        Assert.Equal(1, sys.Openat2Calls);
    }

    [Theory]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("../../x", "/x")]
    [InlineData("//a//./b/", "/a/b")]
    [InlineData("", "/")]
    public void Lexical_cleaning_clamps_at_the_root(string input, string expected) =>
        Assert.Equal(expected, ContainerPath.Normalize(input));

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(70_000)]
    public void ReadAll_returns_exactly_the_file(int size)
    {
        using var t = new TestTree();
        var content = new string('x', size);
        t.WriteFile("/etc/ld.so.conf", content);
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        Assert.Equal(content, System.Text.Encoding.ASCII.GetString(root.ReadAll("/etc/ld.so.conf")));
    }

    [Fact]
    public void ReadAll_reads_past_a_size_that_understates_the_file_as_proc_files_do()
    {
        using var t = new TestTree();
        var content = string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i}\n"));
        t.WriteFile("/etc/ld.so.conf", content);
        using var root = ContainerRoot.Open(new ZeroSizeSyscalls(), t.Root);
        Assert.Equal(content, System.Text.Encoding.ASCII.GetString(root.ReadAll("/etc/ld.so.conf")));
        Assert.Throws<IOException>(() => root.ReadAll("/etc/ld.so.conf", maxBytes: 1000));
    }

    sealed class ZeroSizeSyscalls() : ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public override int Statx(int dirfd, string path, int flags, out FileStatus status)
        {
            var r = base.Statx(dirfd, path, flags, out status);
            status = status with { Size = 0 };
            return r;
        }
    }
}

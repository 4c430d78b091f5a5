using Gantry.Common;
using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;

namespace Gantry.Tests.Live;

public sealed class MountTargetsTests
{
    /// <summary>A rootfs, its confined root over a recording seam, a journal and the targets maker.</summary>
    sealed class Fixture : IDisposable
    {
        public TestTree Tree { get; } = new();
        public FakeMountSyscalls Sys { get; }
        public ContainerRoot Root { get; }
        public UndoJournal Journal { get; }
        public MountTargets Targets { get; }

        public Fixture(string kind, (uint, uint) owner = default, Action<TestTree>? image = null)
        {
            image?.Invoke(Tree);
            Sys = new FakeMountSyscalls(Resolvers.For(kind));
            Root = ContainerRoot.Open(Sys, Tree.Root);
            Journal = new UndoJournal(Sys, Log.Silent);
            Targets = new MountTargets(Root, Journal, owner);
        }

        public void Dispose()
        {
            Journal.Dispose();
            Root.Dispose();
            Tree.Dispose();
        }
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Missing_directories_are_made_one_journal_step_each_and_rollback_removes_exactly_them(string kind)
    {
        using var f = new Fixture(kind, image: t => t.WriteFile("/usr/share/keep", "image"));
        var before = TreeListing.Of(f.Tree.Root);
        var (fd, path) = f.Targets.Directory("/usr/lib/x86_64-linux-gnu/nvidia");
        using (fd)
        {
            Assert.Equal("/usr/lib/x86_64-linux-gnu/nvidia", path);
            Assert.Equal("/usr/lib/x86_64-linux-gnu/nvidia", f.Root.ContainerPathOf(fd));
        }
        Assert.Equal(3, f.Journal.Count); // lib, x86_64-linux-gnu, nvidia; /usr was there
        Assert.True(Directory.Exists(f.Tree.InRoot("/usr/lib/x86_64-linux-gnu/nvidia")));
        f.Journal.Rollback();
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Existing_directories_are_taken_as_they_are_and_nothing_is_journalled(string kind)
    {
        using var f = new Fixture(kind, image: t => t.Mkdir("/usr/lib"));
        var (fd, path) = f.Targets.Directory("/usr//lib/./");
        fd.Dispose();
        Assert.Equal("/usr/lib", path);
        Assert.Equal(0, f.Journal.Count);
        Assert.Empty(f.Sys.Chowns);
    }

    // What an image plants on the way to a mount target, and where the target must end up: always inside the root.
    public static TheoryData<string, string, string, string, string> Hostile
    {
        get
        {
            var data = new TheoryData<string, string, string, string, string>();
            foreach (var kind in new[] { "openat2", "walk" })
            {
                // kind, symlink in the image (or ""), its target, requested directory, expected container path
                data.Add(kind, "/usr/lib", "../host", "/usr/lib/nvidia", "/host/nvidia"); // relative to /usr, where the link is
                data.Add(kind, "/lib", "../host", "/lib/nvidia", "/host/nvidia"); // would be the host sentinel if followed unconfined
                data.Add(kind, "/lib", "../../../../../host", "/lib/nvidia", "/host/nvidia");
                data.Add(kind, "/lib", "/", "/lib/nvidia", "/nvidia");
                data.Add(kind, "/lib", "/etc", "/lib/nvidia", "/etc/nvidia");
                data.Add(kind, "", "", "/../../../lib/nvidia", "/lib/nvidia");
                data.Add(kind, "", "", "/a/../../b/./c/..//d", "/b/d");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(Hostile))]
    public void Directories_are_made_confined_inside_the_root_whatever_the_image_planted(string kind, string link, string linkTarget, string request, string expected)
    {
        using var f = new Fixture(kind, image: t =>
        {
            t.Mkdir("/etc");
            t.Mkdir("/usr");
            if (link != "") t.Symlink(link, linkTarget);
        });
        var (fd, path) = f.Targets.Directory(request);
        fd.Dispose();
        Assert.Equal(expected, path);
        Assert.True(Directory.Exists(f.Tree.InRoot(expected)));
        f.Tree.AssertSentinelUntouched();
        f.Journal.Rollback();
        Assert.False(Directory.Exists(f.Tree.InRoot(expected)));
        if (link != "") Assert.Equal(linkTarget, new FileInfo(f.Tree.InRoot(link)).LinkTarget); // the image's link stays
        f.Tree.AssertSentinelUntouched();
    }

    // An absolute symlink to a host directory that exists: confined, it dangles, so its target is made in the root.
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void An_absolute_symlink_to_a_host_directory_has_its_target_made_inside_the_root(string kind)
    {
        using var f = new Fixture(kind);
        f.Tree.Symlink("/usr/lib/nvidia", f.Tree.Sentinel + "/etc");
        var (fd, path) = f.Targets.Directory("/usr/lib/nvidia/xorg");
        fd.Dispose();
        Assert.Equal(f.Tree.Sentinel + "/etc/xorg", path);
        Assert.True(Directory.Exists(f.Tree.InRoot(f.Tree.Sentinel + "/etc/xorg")));
        Assert.False(Directory.Exists(Path.Combine(f.Tree.Sentinel, "etc/xorg")));
        f.Tree.AssertSentinelUntouched();
    }

    public static TheoryData<string, string, string> NotDirectories
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var kind in new[] { "openat2", "walk" })
            {
                // kind, requested directory, message (the image has a file /etc/file and a link /etc/link -> /etc/file)
                data.Add(kind, "/etc/file/nvidia", "/etc/file: Not a directory");
                data.Add(kind, "/etc/file", "/etc/file: Not a directory");
                data.Add(kind, "/etc/link/nvidia", "/etc/link: Not a directory");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(NotDirectories))]
    public void An_existing_file_where_a_directory_is_needed_is_an_error_and_nothing_is_made(string kind, string request, string message)
    {
        using var f = new Fixture(kind, image: t =>
        {
            t.WriteFile("/etc/file", "image");
            t.Symlink("/etc/link", "/etc/file");
        });
        var before = TreeListing.Of(f.Tree.Root);
        var e = Assert.Throws<IOException>(() => f.Targets.Directory(request));
        Assert.Equal(message, e.Message);
        Assert.Equal(0, f.Journal.Count);
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_mkdir_that_fails_part_way_leaves_the_directories_before_it_journalled_for_the_rollback(string kind)
    {
        using var f = new Fixture(kind);
        f.Sys.FailMkdirOf = "c";
        var before = TreeListing.Of(f.Tree.Root);
        var e = Assert.Throws<IOException>(() => f.Targets.Directory("/a/b/c/d"));
        Assert.Equal("/a/b/c: Permission denied", e.Message);
        Assert.Equal(2, f.Journal.Count);
        Assert.True(Directory.Exists(f.Tree.InRoot("/a/b")));
        f.Journal.Rollback();
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_missing_file_target_is_made_empty_and_journalled_after_its_directories(string kind)
    {
        using var f = new Fixture(kind);
        var before = TreeListing.Of(f.Tree.Root);
        var (fd, path) = f.Targets.File("/usr/lib/libcuda.so.1");
        using (fd) Assert.True(f.Root.Stat(fd, path).IsRegular);
        Assert.Equal("/usr/lib/libcuda.so.1", path);
        Assert.Equal(0, new FileInfo(f.Tree.InRoot(path)).Length);
        Assert.Equal(0, (int)File.GetUnixFileMode(f.Tree.InRoot(path)) & 0b001_011_011); // 0644 at most: no exec, no write but the owner's
        Assert.Equal(3, f.Journal.Count);
        f.Journal.Rollback();
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
    }

    public static TheoryData<string, string, string?, string?> FileTargets
    {
        get
        {
            var data = new TheoryData<string, string, string?, string?>();
            foreach (var kind in new[] { "openat2", "walk" })
            {
                // kind, requested file, expected container path, or the error
                data.Add(kind, "/lib/libcuda.so", "/lib/libcuda.so", null);
                data.Add(kind, "/lib/link-inside", "/lib/libcuda.so", null);
                data.Add(kind, "/lib/link-up", "/lib/libcuda.so", null); // ../../../lib/libcuda.so clamped at the root
                data.Add(kind, "/lib/link-host", null, "/lib/link-host: is a dangling symbolic link; refusing to follow it");
                data.Add(kind, "/lib/link-dangling", null, "/lib/link-dangling: is a dangling symbolic link; refusing to follow it");
                data.Add(kind, "/lib/link-dir", null, "/lib/link-dir: is a directory");
                data.Add(kind, "/lib", null, "/lib: is a directory");
                data.Add(kind, "/lib/libcuda.so/x", null, "/lib/libcuda.so: Not a directory");
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(FileTargets))]
    public void File_targets_follow_the_images_symlinks_inside_the_root_and_refuse_directories_and_dangling_links(
        string kind, string request, string? expected, string? error)
    {
        using var f = new Fixture(kind, image: t =>
        {
            t.WriteFile("/lib/libcuda.so", "image");
            t.Symlink("/lib/link-inside", "/lib/libcuda.so");
            t.Symlink("/lib/link-up", "../../../lib/libcuda.so");
            t.Symlink("/lib/link-host", t.Sentinel + "/keep.txt");
            t.Symlink("/lib/link-dangling", "/nowhere");
            t.Symlink("/lib/link-dir", "/lib");
        });
        var before = TreeListing.Of(f.Tree.Root);
        if (error is not null)
        {
            Assert.Equal(error, Assert.Throws<IOException>(() => f.Targets.File(request)).Message);
        }
        else
        {
            var (fd, path) = f.Targets.File(request);
            fd.Dispose();
            Assert.Equal(expected, path);
        }
        Assert.Equal(0, f.Journal.Count);
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
        f.Tree.AssertSentinelUntouched();
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void What_is_made_is_given_to_the_containers_owner_and_what_was_there_is_not(string kind)
    {
        using var f = new Fixture(kind, owner: (1000, 2000), image: t => t.Mkdir("/usr"));
        f.Targets.Directory("/usr/lib/nvidia").Fd.Dispose();
        f.Targets.File("/usr/lib/nvidia/libcuda.so.1").Fd.Dispose();
        var root = f.Tree.Root;
        Assert.Equal(
            [($"{root}/usr/lib", 1000u, 2000u, At.EmptyPath), ($"{root}/usr/lib/nvidia", 1000u, 2000u, At.EmptyPath),
             ($"{root}/usr/lib/nvidia/libcuda.so.1", 1000u, 2000u, At.EmptyPath)],
            f.Sys.Chowns);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_root_owned_container_gets_no_chown_at_all(string kind)
    {
        using var f = new Fixture(kind, owner: (0, 0));
        f.Targets.File("/usr/lib/libcuda.so.1").Fd.Dispose();
        Assert.Empty(f.Sys.Chowns);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_chown_that_fails_is_an_error_and_what_was_made_is_still_journalled(string kind)
    {
        using var f = new Fixture(kind, owner: (1000, 1000));
        f.Sys.ChownResult = -Errno.EPERM;
        var before = TreeListing.Of(f.Tree.Root);
        var e = Assert.Throws<IOException>(() => f.Targets.Directory("/opt/nvidia"));
        Assert.Equal("/opt: chown to 1000:1000: Operation not permitted", e.Message);
        Assert.Equal(1, f.Journal.Count);
        f.Journal.Rollback();
        Assert.Equal(before, TreeListing.Of(f.Tree.Root));
    }
}

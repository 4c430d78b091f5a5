using Gantry.Common;
using Gantry.Host;
using Gantry.Live;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Live;

public sealed class UndoJournalTests
{
    /// <summary>Records the undo calls in order (umount by the host path its fd names) and fails the ones asked to.</summary>
    sealed class UndoRecorder() : ForwardingSyscalls(LinuxSyscalls.Instance)
    {
        public List<string> Calls { get; } = new();
        public Dictionary<string, int> Fail { get; } = new();

        public override int Umount(string target, int flags)
        {
            LinuxSyscalls.Instance.ReadLinkAt(At.FdCwd, target, out var host);
            var call = $"umount {host} detach={(flags & Ms.MntDetach) != 0}";
            Calls.Add(call);
            return Fail.TryGetValue(call, out var errno) ? -errno : 0; // nothing is mounted: pretend
        }

        public override int UnlinkAt(int dirfd, string name, int flags)
        {
            LinuxSyscalls.Instance.ReadLinkAt(At.FdCwd, $"/proc/self/fd/{dirfd}", out var dir);
            var call = $"{((flags & At.RemoveDir) != 0 ? "rmdir" : "unlink")} {dir}/{name}";
            Calls.Add(call);
            return Fail.TryGetValue(call, out var errno) ? -errno : base.UnlinkAt(dirfd, name, flags);
        }
    }

    static OwnedFd Dir(ISyscalls sys, string path) => new(sys, sys.OpenAt(At.FdCwd, path, O.Path | O.Directory));

    // A directory a, a file a/f in it and a "mount" on a/f, journalled in that order as the applier would.
    static (UndoJournal Journal, UndoRecorder Sys, StringWriter Log) Journal(ScratchDirectory s)
    {
        var sys = new UndoRecorder();
        var log = new StringWriter();
        var journal = new UndoJournal(sys, new Log(log, LogLevel.Debug));
        Directory.CreateDirectory(Path.Combine(s.Path, "a"));
        journal.Created(Dir(sys, s.Path), "a", directory: true, "/a");
        s.Write("a/f", "");
        journal.Created(Dir(sys, Path.Combine(s.Path, "a")), "f", directory: false, "/a/f");
        journal.Mounted(new OwnedFd(sys, sys.OpenAt(At.FdCwd, Path.Combine(s.Path, "a/f"), O.Path)), "/a/f");
        return (journal, sys, log);
    }

    [Fact]
    public void Rollback_undoes_every_step_newest_first_through_the_fds_it_holds()
    {
        using var s = new ScratchDirectory();
        var (journal, sys, log) = Journal(s);
        using (journal)
        {
            Assert.Equal(3, journal.Count);
            journal.Rollback();
            Assert.Equal([$"umount {s.Path}/a/f detach=True", $"unlink {s.Path}/a/f", $"rmdir {s.Path}/a"], sys.Calls);
            Assert.False(Directory.Exists(Path.Combine(s.Path, "a")));
            Assert.Equal(0, journal.Count);
            Assert.Equal("DEBUG: rollback: unmount /a/f\nDEBUG: rollback: remove /a/f\nDEBUG: rollback: remove /a\n", log.ToString().ReplaceLineEndings("\n"));
        }
    }

    public static TheoryData<string, int, string[]> FailedSteps => new()
    {
        // the call that fails, its errno, the warnings (a file left behind also keeps its directory)
        { "umount {0}/a/f detach=True", 16 /* EBUSY */, ["WARNING: rollback: could not unmount /a/f: Device or resource busy"] },
        { "unlink {0}/a/f", Errno.EACCES, ["WARNING: rollback: could not remove /a/f: Permission denied", "WARNING: rollback: could not remove /a: Directory not empty"] },
        { "rmdir {0}/a", Errno.ENOTEMPTY, ["WARNING: rollback: could not remove /a: Directory not empty"] },
    };

    [Theory, MemberData(nameof(FailedSteps))]
    public void A_step_that_fails_is_reported_as_a_warning_and_the_older_steps_still_run(string failing, int errno, string[] warnings)
    {
        using var s = new ScratchDirectory();
        var (journal, sys, log) = Journal(s);
        sys.Fail[string.Format(failing, s.Path)] = errno;
        using (journal) journal.Rollback();
        Assert.Equal(3, sys.Calls.Count); // every step was tried, newest first
        Assert.Equal($"umount {s.Path}/a/f detach=True", sys.Calls[0]);
        Assert.Equal($"rmdir {s.Path}/a", sys.Calls[2]);
        var lines = log.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length); // one line per step
        Assert.Equal(warnings, lines.Where(l => l.StartsWith("WARNING:", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_real_failure_to_remove_a_directory_that_is_no_longer_empty_leaves_it_and_goes_on()
    {
        using var s = new ScratchDirectory();
        var sys = LinuxSyscalls.Instance;
        var log = new StringWriter();
        using var journal = new UndoJournal(sys, new Log(log, LogLevel.Debug));
        Directory.CreateDirectory(Path.Combine(s.Path, "made"));
        journal.Created(Dir(sys, s.Path), "made", directory: true, "/made");
        s.Write("made/inner/kept", "not journalled");
        journal.Created(Dir(sys, s.Path), "made", directory: false, "/made (as a file)"); // unlink of a directory: EISDIR
        journal.Rollback();
        Assert.True(File.Exists(Path.Combine(s.Path, "made/inner/kept")));
        Assert.Contains("WARNING: rollback: could not remove /made (as a file): Is a directory", log.ToString());
        Assert.Contains("WARNING: rollback: could not remove /made: Directory not empty", log.ToString());
    }

    [Fact]
    public void Commit_keeps_every_change_and_a_later_rollback_undoes_nothing()
    {
        using var s = new ScratchDirectory();
        var (journal, sys, _) = Journal(s);
        using (journal)
        {
            journal.Commit();
            Assert.Equal(0, journal.Count);
            journal.Rollback();
        }
        Assert.Empty(sys.Calls);
        Assert.True(File.Exists(Path.Combine(s.Path, "a/f")));
    }

    [Fact]
    public void Each_step_is_undone_once_even_when_rollback_is_called_again()
    {
        using var s = new ScratchDirectory();
        var (journal, sys, _) = Journal(s);
        using (journal)
        {
            journal.Rollback();
            journal.Rollback();
        }
        Assert.Equal(3, sys.Calls.Count);
    }

    // The image may rename what was made while the applier still works; the undo follows the fd, not the path.
    [Fact]
    public void Undo_goes_through_the_parent_fd_so_a_path_swapped_meanwhile_is_not_what_gets_removed()
    {
        using var s = new ScratchDirectory();
        var sys = LinuxSyscalls.Instance;
        using var journal = new UndoJournal(sys, Log.Silent);
        s.Write("lib/libcuda.so.1", "");
        journal.Created(Dir(sys, Path.Combine(s.Path, "lib")), "libcuda.so.1", directory: false, "/lib/libcuda.so.1");
        Directory.Move(Path.Combine(s.Path, "lib"), Path.Combine(s.Path, "moved"));
        s.Write("lib/libcuda.so.1", "planted at the old path");
        journal.Rollback();
        Assert.False(File.Exists(Path.Combine(s.Path, "moved/libcuda.so.1")));
        Assert.Equal("planted at the old path", File.ReadAllText(Path.Combine(s.Path, "lib/libcuda.so.1")));
    }

    [Fact]
    public void Dispose_closes_every_fd_the_journal_holds_and_hold_gives_the_same_fd_back()
    {
        using var s = new ScratchDirectory();
        var sys = LinuxSyscalls.Instance;
        var journal = new UndoJournal(sys, Log.Silent);
        var held = Dir(sys, s.Path);
        Assert.Same(held, journal.Hold(held));
        var parent = Dir(sys, s.Path);
        journal.Created(parent, "x", directory: false, "/x");
        var mount = Dir(sys, s.Path);
        journal.Mounted(mount, "/m");
        journal.Dispose();
        Assert.Throws<ObjectDisposedException>(() => held.Value);
        Assert.Throws<ObjectDisposedException>(() => parent.Value);
        Assert.Throws<ObjectDisposedException>(() => mount.Value);
    }
}

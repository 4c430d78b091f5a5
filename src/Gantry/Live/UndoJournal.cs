using Gantry.Common;
using Gantry.Host;

namespace Gantry.Live;

// What the applier changed in the container, newest last, each with the fd that names it exactly: a mount is
// unmounted through an fd on its root, a created file or directory is removed relative to an fd on its parent.
// Nothing is undone by path, so an image that swaps paths meanwhile cannot redirect the undo either.
internal sealed class UndoJournal(ISyscalls sys, Log log) : IDisposable
{
    readonly List<(string What, Func<int> Undo)> _steps = [];
    readonly List<OwnedFd> _held = [];

    public int Count => _steps.Count;

    /// <summary>Keeps fd open until the journal is disposed, so later undo steps can use it.</summary>
    public OwnedFd Hold(OwnedFd fd)
    {
        _held.Add(fd);
        return fd;
    }

    public void Mounted(OwnedFd mountRoot, string path)
    {
        var fd = Hold(mountRoot);
        _steps.Add(($"unmount {path}", () => sys.Umount(fd.ProcPath, Ms.MntDetach)));
    }

    public void Created(OwnedFd parent, string name, bool directory, string path)
    {
        var fd = Hold(parent);
        _steps.Add(($"remove {path}", () => sys.UnlinkAt(fd.Value, name, directory ? At.RemoveDir : 0)));
    }

    /// <summary>Undoes every step, newest first; a step that fails is logged and the rest still run.</summary>
    public void Rollback()
    {
        for (var i = _steps.Count - 1; i >= 0; i--)
        {
            var r = _steps[i].Undo();
            if (r < 0) log.Warning($"rollback: could not {_steps[i].What}: {Errno.Describe(-r)}");
            else log.Debug($"rollback: {_steps[i].What}");
        }
        _steps.Clear();
    }

    /// <summary>Keeps every change: nothing will be undone.</summary>
    public void Commit() => _steps.Clear();

    public void Dispose()
    {
        foreach (var fd in _held) fd.Dispose();
        _held.Clear();
    }
}

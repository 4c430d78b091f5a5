namespace Gantry.Plugin;

/// <summary>
/// A directory made with its missing parents, remembering which of them this process created, so that a start
/// that fails can take back exactly those (when still empty) and leave nothing behind.
/// </summary>
internal sealed class CreatedDirectories
{
    readonly List<string> _created;

    CreatedDirectories(List<string> created) => _created = created;

    public static CreatedDirectories Create(string path, UnixFileMode mode)
    {
        var missing = new List<string>();
        for (var dir = Path.GetFullPath(path); dir is not null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
            missing.Add(dir);
        Directory.CreateDirectory(path, mode);
        return new CreatedDirectories(missing);
    }

    /// <summary>Removes the directories it created, deepest first, while they are empty.</summary>
    public void RemoveIfEmpty()
    {
        foreach (var dir in _created)
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(dir).Any()) return;
                Directory.Delete(dir);
            }
            catch (IOException) { return; }
            catch (UnauthorizedAccessException) { return; }
        }
    }
}

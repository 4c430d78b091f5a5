using Gantry.Common;
using Gantry.Host;

namespace Gantry.Engines.Configure;

// Reading and writing an engine's config file: a missing file reads as null, writes are atomic, the first change
// keeps `<file>.gantry.bak`, an unchanged file is not touched, and a read-only file is refused (even for root,
// who could otherwise replace it by rename).
internal static class EngineFile
{
    public const string BackupSuffix = ".gantry.bak";

    public static string? Read(string path)
    {
        if (Directory.Exists(path)) throw new GantryException($"{path} is a directory, not a config file");
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new GantryException($"cannot read {path}: {e.Message}", e); }
    }

    /// <summary>Applies one change; returns false when the file already had that content.</summary>
    public static bool Apply(FileChange change, Log log)
    {
        var old = Read(change.Path);
        if (old == change.Text) return false;
        // A symbolic link stays one: its target is what gets edited (and backed up beside it).
        var path = LinkTarget(change.Path) is { } target ? target : change.Path;
        if (path != change.Path) log.Info($"{change.Path} is a symbolic link: editing its target {path}");
        if (old is not null) CheckWritable(path);
        var backup = false;
        try
        {
            if (change.Backup && old is not null && !File.Exists(path + BackupSuffix))
            {
                AtomicFile.WriteText(path + BackupSuffix, old, File.GetUnixFileMode(path));
                backup = true;
            }
            if (change.Text is null)
            {
                File.Delete(path);
                log.Info($"Removed empty config from {path}");
            }
            else
            {
                AtomicFile.WriteText(path, change.Text, old is null ? (UnixFileMode)0b110_100_100 : File.GetUnixFileMode(path));
                log.Info($"Wrote updated config to {path}");
            }
            if (backup) log.Info($"Kept the original {path} as {path + BackupSuffix}");
            if (change.RestoresBackup)
            {
                File.Delete(path + BackupSuffix);
                log.Info($"Restored {path} from {path + BackupSuffix} (the file was as configure left it) and removed the backup");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing changed, so nothing is left: the backup made for this change goes too.
            if (backup) try { File.Delete(path + BackupSuffix); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new GantryException($"cannot write {path}: {WriteFailure.Cause(path, e)}; the file was not changed", e);
        }
        return true;
    }

    /// <summary>Where configure keeps the backup of a config file: beside it, or beside its target when it is a link.</summary>
    public static string BackupOf(string path) => (LinkTarget(path) ?? path) + BackupSuffix;

    /// <summary>The final target of a symbolic link (absolute), or null when the path is not a link.</summary>
    static string? LinkTarget(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is null) return null;
            return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName is { } final ? Path.GetFullPath(final) : null;
        }
        catch (IOException e) { throw new GantryException($"cannot follow the symbolic link {path}: {WriteFailure.Scrub(e.Message, path)}", e); }
    }

    static void CheckWritable(string path)
    {
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode anyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        if ((mode & anyWrite) == 0)
            throw new GantryException($"{path} is read-only (mode {System.Convert.ToString((int)mode, 8)}); not changed. Make it writable to configure it");
    }
}

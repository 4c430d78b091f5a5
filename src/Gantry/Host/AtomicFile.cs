namespace Gantry.Host;

// Every write of a user's file goes through here: temp file in the same directory, fsync, rename.
// A failure leaves the old file (or no file) in place, never half a file.
internal static class AtomicFile
{
    /// <param name="durable">false skips the fsync: for files that need to be whole, not to survive a crash
    /// (an OCI bundle's config.json lives on tmpfs or for one container start).</param>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = (UnixFileMode)0b110_100_100, bool durable = true)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(tmp, new FileStreamOptions
                   { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: durable);
            }
            File.SetUnixFileMode(tmp, mode);
            if (FaultPoint.IsArmed) FaultPoint.Hit("write:" + Path.GetFileName(full));
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteText(string path, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(content), mode);
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Elf;
using Gantry.Host;

namespace Gantry.NvidiaDocker;

/// <summary>How a driver file gets into the volume: hard link (same file system) or copy.</summary>
internal interface IFileCloner
{
    /// <summary>Hard-links source to target; returns 0, or the errno (EXDEV, EPERM, …) when it cannot.</summary>
    int TryLink(string source, string target);
}

internal sealed class LinuxFileCloner : IFileCloner
{
    public static LinuxFileCloner Instance { get; } = new();
    public int TryLink(string source, string target) => Interop.Link(source, target) == 0 ? 0 : Marshal.GetLastPInvokeError();
}

// Builds one version of the driver volume: bin/, lib/ (32-bit), lib64/, each file a hard link of the host file
// when the volume directory is on the driver's file system and a copy otherwise (the original only hard-linked
// and failed with EXDEV across file systems), plus the links ldconfig would make (SONAME, libcuda.so,
// libGLX_indirect.so.0) because the volume is not in the container's ld.so.cache. The volume is assembled
// in a hidden sibling directory and renamed into place, so a reader never sees half a volume.
internal sealed class VolumeBuilder(IFileCloner cloner, Log log)
{
    public const string BinDir = "bin", Lib32Dir = "lib", Lib64Dir = "lib64";
    const UnixFileMode DirMode = (UnixFileMode)0b111_101_101;
    const int EMLINK = 31;   // too many links to the source

    /// <summary>Creates target (which must not exist yet) from files; false if another builder finished first.</summary>
    public bool Build(string target, VolumeFiles files)
    {
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{RandomName.Next()}");
        try
        {
            Directory.CreateDirectory(staging, DirMode);
            Fill(Path.Combine(staging, BinDir), files.Binaries, libraries: false);
            Fill(Path.Combine(staging, Lib32Dir), files.Libraries32, libraries: true);
            Fill(Path.Combine(staging, Lib64Dir), files.Libraries64, libraries: true);
            File.SetUnixFileMode(staging, DirMode);
            try { Directory.Move(staging, target); }
            catch (IOException) when (Directory.Exists(target)) { return false; }
            return true;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    void Fill(string dir, IReadOnlyList<string> sources, bool libraries)
    {
        Directory.CreateDirectory(dir, DirMode);
        foreach (var source in sources)
        {
            var name = Path.GetFileName(source);
            Clone(source, Path.Combine(dir, name));
            if (!libraries) continue;
            if (!ElfReader.TryRead(source, out var elf, out var error)) throw new GantryException($"{source}: {error}");
            if (elf.Soname is not { Length: > 0 } soname) continue;
            Symlink(name, Path.Combine(dir, soname));
            // Programs dlopen "libcuda.so" without a version; GLVND needs libGLX_indirect.so.0 for indirect GLX.
            if (soname.StartsWith("libcuda", StringComparison.Ordinal)) Symlink(name, Path.Combine(dir, soname.TrimEnd('.', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')));
            if (soname.StartsWith("libGLX_nvidia", StringComparison.Ordinal)) Symlink(name, Path.Combine(dir, soname.Replace("GLX_nvidia", "GLX_indirect")));
        }
    }

    void Clone(string source, string target)
    {
        var errno = cloner.TryLink(source, target);
        if (errno == 0) return;
        if (errno is not (Errno.EXDEV or Errno.EPERM or EMLINK))
            throw new GantryException($"cannot link {source} to {target}: {new SyscallException("link", source, errno).Message}");
        log.Debug($"copying {source} to {target}: no hard link possible ({Errno.Describe(errno)})");
        File.Copy(source, target);
        File.SetUnixFileMode(target, File.GetUnixFileMode(source));
    }

    static void Symlink(string target, string link)
    {
        if (Path.GetFileName(link) == target) return;
        try { File.CreateSymbolicLink(link, target); }
        catch (IOException) when (Path.Exists(link) || File.ResolveLinkTarget(link, false) is not null) { }
    }
}

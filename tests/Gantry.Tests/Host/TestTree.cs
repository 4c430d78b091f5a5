using System.Security.Cryptography;
using Gantry.Host;

namespace Gantry.Tests.Host;

/// <summary>
/// A temp directory holding a container rootfs and, beside it, a "host" sentinel directory that hostile images
/// aim their symlinks at. Snapshot/AssertSentinelUntouched prove nothing outside the rootfs was created or changed.
/// </summary>
internal sealed class TestTree : IDisposable
{
    public string Base { get; } = Path.Combine(Path.GetTempPath(), "gantry-test-" + Guid.NewGuid().ToString("N")[..12]);
    public string Root => Path.Combine(Base, "rootfs");
    public string Sentinel => Path.Combine(Base, "host");
    string _snapshot;

    public TestTree()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Path.Combine(Sentinel, "etc/ld.so.conf.d"));
        File.WriteAllText(Path.Combine(Sentinel, "keep.txt"), "host data\n");
        File.WriteAllText(Path.Combine(Sentinel, "etc/ld.so.cache"), "host cache\n");
        File.WriteAllText(Path.Combine(Sentinel, "etc/ld.so.conf"), "/host/lib\n");
        File.WriteAllText(Path.Combine(Sentinel, "params"), "ModifyDeviceFiles: 1\n");
        _snapshot = Snapshot();
    }

    /// <summary>Adds a file to the host sentinel (bait for a hostile image) and takes it into the snapshot.</summary>
    public void WriteHostFile(string relative, string content)
    {
        File.WriteAllText(Path.Combine(Sentinel, relative), content);
        _snapshot = Snapshot();
    }

    public string InRoot(string path) => Path.Combine(Root, path.TrimStart('/'));

    public void Mkdir(string path) => Directory.CreateDirectory(InRoot(path));

    public void WriteFile(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(InRoot(path))!);
        File.WriteAllText(InRoot(path), content);
    }

    public void Symlink(string path, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(InRoot(path))!);
        File.CreateSymbolicLink(InRoot(path), target);
    }

    /// <summary>The container state JSON a runtime would send on stdin.</summary>
    public string StateJson() => $$"""{"ociVersion":"1.2.0","id":"test","status":"creating","pid":1,"bundle":"{{Base}}","root":"{{Root}}"}""";

    /// <summary>Every entry under the sentinel with its type, mode, size and content hash.</summary>
    public string Snapshot()
    {
        var lines = new List<string>();
        foreach (var e in new DirectoryInfo(Sentinel).EnumerateFileSystemInfos("*", SearchOption.AllDirectories).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            var hash = e is FileInfo { LinkTarget: null } f ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f.FullName))) : e.LinkTarget ?? "dir";
            lines.Add($"{Path.GetRelativePath(Sentinel, e.FullName)} {e.UnixFileMode} {hash}");
        }
        return string.Join('\n', lines);
    }

    public void AssertSentinelUntouched() => Assert.Equal(_snapshot, Snapshot());

    public void Dispose()
    {
        try { Directory.Delete(Base, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs code in a private mount namespace on a thread of its own, so test mounts never reach the host.</summary>
internal static class PrivateMountNamespace
{
    public static void Run(Action action)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                var sys = LinuxSyscalls.Instance;
                SyscallResult.Check(sys.Unshare(CloneFlags.NewNs), "unshare", "mount namespace");
                SyscallResult.Check(sys.Mount(null, "/", null, Ms.Rec | Ms.Private, null), "make private", "/");
                action();
            }
            catch (Exception e) { error = e; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
    }
}

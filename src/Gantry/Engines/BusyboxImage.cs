using Gantry.Common;
using Gantry.Host;

namespace Gantry.Engines;

// A tiny image made from local files only (no registry is reachable): the static busybox, and the host's
// static ldconfig so that the container can show its own ld cache after the hooks ran.
internal static class BusyboxImage
{
    static readonly string[] Applets = ["sh", "ls", "cat", "readlink", "env", "grep", "echo", "test", "head", "stat", "find", "mknod", "sort", "wc", "id", "true", "sleep"];

    public static string? Missing()
    {
        if (!File.Exists("/bin/busybox")) return "/bin/busybox is missing (apt-get install busybox-static)";
        if (!File.Exists("/sbin/ldconfig")) return "/sbin/ldconfig is missing";
        return null;
    }

    /// <summary>Writes the rootfs to dir and a tar of it beside; returns the tar path.</summary>
    public static string BuildTar(string dir)
    {
        var rootfs = Path.Combine(dir, "rootfs");
        foreach (var d in new[] { "bin", "sbin", "etc", "usr/bin", "tmp", "proc", "sys", "dev" }) Directory.CreateDirectory(Path.Combine(rootfs, d));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/busybox"), overwrite: true);
        foreach (var a in Applets)
        {
            var link = Path.Combine(rootfs, "bin", a);
            if (!File.Exists(link)) File.CreateSymbolicLink(link, "busybox");
        }
        // Debian's ldconfig is static-pie, so it runs in an image without a libc.
        File.Copy("/sbin/ldconfig", Path.Combine(rootfs, "sbin/ldconfig"), overwrite: true);
        File.WriteAllText(Path.Combine(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        var tar = Path.Combine(dir, "busybox.tar");
        var r = ProcessRunner.Run("tar", ["-C", rootfs, "-cf", tar, "."]);
        if (r.ExitCode != 0) throw new GantryException($"could not create the image tarball {tar}: {r.Stderr.Trim()}");
        return tar;
    }
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;

namespace Gantry.ContainerCli;

/// <summary>Where the driver's files go in this container, which ldconfig it has, and its CUDA forward-compat libraries.</summary>
internal sealed record ContainerLayout(string BinsDir, string LibsDir, string Libs32Dir, string Ldconfig, IReadOnlyList<string> CompatLibs)
{
    public const string CudartDir = "/usr/local/cuda";

    // The original's probing of the rootfs (nvc_container_new): Debian-like images keep libraries in the
    // multiarch directory, the others in /usr/lib64 (+ a 32-bit directory that exists or /usr/lib32). Every probe
    // goes through the confined resolver: a symlink in the image never leads out of the rootfs.
    public static ContainerLayout Probe(ContainerRoot root, bool wantCompatLibs, Architecture arch, Log log)
    {
        string libs, libs32;
        if (root.StatOrNull("/etc/debian_version") is not null)
        {
            libs = "/usr/lib/" + LdsoConf.Triplet(arch);
            libs32 = arch == Architecture.X64 ? "/usr/lib/i386-linux-gnu" : "/var/empty";
        }
        else
        {
            libs = "/usr/lib64";
            libs32 = root.StatOrNull("/usr/lib32") is not null ? "/usr/lib32"
                : root.StatOrNull("/usr/lib") is not null && !SamePlace(root, "/usr/lib", libs) ? "/usr/lib"
                : "/usr/lib32";
        }
        var ldconfig = root.StatOrNull("/sbin/ldconfig.real") is not null ? "/sbin/ldconfig.real" : "/sbin/ldconfig";
        var compat = wantCompatLibs ? CompatLibraries(root, log) : [];
        log.Info($"setting bins directory to /usr/bin");
        log.Info($"setting libs directory to {libs}");
        log.Info($"setting libs32 directory to {libs32}");
        log.Info($"setting cudart directory to {CudartDir}");
        log.Info($"setting ldconfig to {ldconfig}");
        return new ContainerLayout("/usr/bin", libs, libs32, ldconfig, compat);
    }

    static bool SamePlace(ContainerRoot root, string a, string b)
    {
        var sa = root.StatOrNull(a);
        var sb = root.StatOrNull(b);
        return sa is { } x && sb is { } y && x.SameFileAs(y);
    }

    /// <summary>/usr/local/cuda/compat/lib*.so.* of the image, each at its resolved (symlink-free) path inside the rootfs.</summary>
    static List<string> CompatLibraries(ContainerRoot root, Log log)
    {
        var found = new List<string>();
        foreach (var match in LdsoConf.Glob(root, CudartDir + "/compat/lib*.so.*"))
        {
            if (!root.TryOpen(match, O.Path, out var fd, out _)) continue;
            using (fd)
            {
                if (!root.Stat(fd!, match).IsRegular) continue;
                var resolved = root.ContainerPathOf(fd!);
                if (found.Contains(resolved)) continue;
                log.Info($"selecting {root.HostPath}{resolved}");
                found.Add(resolved);
            }
        }
        return found;
    }
}

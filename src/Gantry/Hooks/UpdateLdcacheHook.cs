using System.Runtime.InteropServices;
using System.Text;
using Gantry.Common;
using Gantry.Host;
using Gantry.LdconfigSandbox;

namespace Gantry.Hooks;

// update-ldcache --folder D...: makes the injected driver libraries visible to the container's dynamic linker.
// The configuration files are written here through the confined resolver; the cache itself is rebuilt by the
// HOST ldconfig run inside the container root, namespaced and de-privileged (LdconfigJail, LdconfigThreadRunner).
internal sealed class UpdateLdcacheHook(ILdconfigRunner? runner = null) : ICdiHook
{
    public const string DefaultLdconfig = "/sbin/ldconfig";
    public string Name => "update-ldcache";
    public string Summary => "Update ldcache in a container by running ldconfig";

    public FlagSet DefineFlags() => new FlagSet()
        .List("folder", "Specify a folder to add to /etc/ld.so.conf before updating the ld cache")
        .String("ldconfig-path", "Specify the path to the ldconfig program", DefaultLdconfig)
        .WithContainerSpec();

    public void Run(FlagSet flags, HookContext context)
    {
        var requested = flags.GetOr("ldconfig-path", DefaultLdconfig);
        var ldconfig = LdconfigBinary.Resolve(requested);
        if (ldconfig is null) { context.Log.Warning($"ldconfig not found at {requested}; skipping the ld.so.cache update"); return; }
        if (!LdconfigBinary.IsStaticElf(ldconfig, out var why))
            throw new GantryException($"refusing to run {ldconfig} inside the container: {why}; only a statically linked host ldconfig is safe to run against an untrusted root");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var root = context.OpenContainerRoot(flags, refuseHostRoot: true);
        try
        {
            Configure(root, flags.GetList("folder"), RuntimeInformation.ProcessArchitecture, context.Log);
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to update the ld.so configuration in {root.HostPath}: {e.Message}", e);
        }
        context.Log.Debug($"configured the ld.so search path in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
        var scratch = "ldconfig-" + RandomName.Uuid();
        FaultPoint.Hit("hook-before-ldconfig");
        try
        {
            (runner ?? new LdconfigThreadRunner(context.Ldconfig)).Run(root.HostPath, ldconfig, scratch);
            FaultPoint.Hit("hook-after-ldconfig");
        }
        finally
        {
            LdconfigScratch.Remove(root, scratch);
        }
    }

    /// <summary>Writes ld.so.conf (if missing), 00-nvcr-*.conf, zz-nvcr-*.conf and, on Alpine, the musl path file.</summary>
    public static void Configure(ContainerRoot root, IReadOnlyList<string> folders, Architecture arch, Log log)
    {
        var debianLike = root.StatOrNull("/etc/debian_version")?.IsRegular == true;
        var systemDirs = LdsoConf.SystemDirectories(debianLike, arch);
        using var etc = root.MkdirAll("/etc", 0b111_101_101);
        if (root.StatOrNull("/etc/ld.so.conf", followFinal: false) is null)
        {
            using var conf = root.CreateExclusive(etc, "ld.so.conf", 0b110_100_100, "/etc/ld.so.conf");
            root.WriteAll(conf, "include /etc/ld.so.conf.d/*.conf\n"u8, "/etc/ld.so.conf");
            log.Debug("created /etc/ld.so.conf");
        }
        var configured = LdsoConf.ConfiguredDirectories(root);
        configured.UnionWith(systemDirs);
        var unique = folders.Where(f => f.Length > 0).Select(ContainerPath.Normalize).Distinct(StringComparer.Ordinal).ToList();
        var toAdd = unique.Where(f => !configured.Contains(f)).ToList();

        using var confd = root.MkdirAll("/etc/ld.so.conf.d", 0b111_101_101);
        if (toAdd.Count > 0) WriteNew(root, confd, $"00-nvcr-{RandomName.Next()}.conf", toAdd, log);
        WriteNew(root, confd, $"zz-nvcr-{RandomName.Next()}.conf", systemDirs, log);

        if (root.StatOrNull("/etc/alpine-release")?.IsRegular == true)
            AppendMuslPath(root, etc, $"ld-musl-{LdsoConf.MuslArch(arch)}.path", [.. unique, .. systemDirs], log);
    }

    static void WriteNew(ContainerRoot root, OwnedFd dir, string name, IEnumerable<string> lines, Log log)
    {
        var path = "/etc/ld.so.conf.d/" + name;
        using var fd = root.CreateExclusive(dir, name, 0b110_100_100, path);
        root.WriteAll(fd, Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n"))), path);
        log.Debug($"wrote {path}");
    }

    static void AppendMuslPath(ContainerRoot root, OwnedFd etc, string name, IEnumerable<string> dirs, Log log)
    {
        var path = "/etc/" + name;
        var existing = root.StatOrNull(path, followFinal: false);
        var needsNewline = false;
        if (existing is { IsRegular: true, Size: > 0 })
            needsNewline = root.ReadAll(path, 1 << 20)[^1] != (byte)'\n';
        // O_NOFOLLOW: a symlink planted at this name is refused, not written through.
        var r = root.Sys.OpenAt(etc.Value, name, O.WrOnly | O.Append | O.Creat | O.NoFollow, 0b110_100_100);
        using var fd = new OwnedFd(root.Sys, SyscallResult.Check(r, "open", path));
        var text = (needsNewline ? "\n" : "") + string.Concat(dirs.Select(d => d + "\n"));
        root.WriteAll(fd, Encoding.UTF8.GetBytes(text), path);
        log.Debug($"appended library directories to {path}");
    }
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Elf;
using Gantry.Host;

namespace Gantry.ContainerCli;

/// <summary>Driver options the list command can set (the original's driver option string).</summary>
internal sealed record DriverOptions(bool NoPersistenced = false, bool NoFabricManager = false, bool NoGspFirmware = false);

// The driver's files as libnvidia-container finds them, every path relative to --root: libraries through the
// root's ld.so.cache (file order, prefix match, driver-version suffix), binaries on $PATH, IPC sockets, firmware.
internal static class DriverComponents
{
    public const string Persistenced = "/var/run/nvidia-persistenced/socket";
    public const string FabricManager = "/var/run/nvidia-fabricmanager/socket";

    /// <summary>Libraries of the given capabilities for one arch: one slot per name, in list order, missing ones dropped.</summary>
    public static List<string> Libraries(CliDriver d, DriverCapability caps, bool lib32, Log log)
    {
        var (arch64, arch32) = LdCache.ArchesFor(RuntimeInformation.ProcessArchitecture);
        if (lib32 && arch32 is null) return new();
        var arch = lib32 ? arch32!.Value : arch64;
        var names = LibraryNames(caps);
        // On WSL libdxcore comes whatever the capabilities, and the copies in /usr/lib/wsl/lib are taken as they are.
        if (d.Wsl is not null) names.Add(DxcoreLibrary);
        var slots = new string?[names.Count];
        foreach (var entry in d.Cache.Entries)
        {
            if (!LdCache.IsFor(entry, arch)) continue;
            var j = names.FindIndex(n => entry.Key.StartsWith(n, StringComparison.Ordinal));
            if (j < 0) continue;
            var path = Resolve(d.Roots, entry.Value);
            if (path is null) { log.Debug($"skipping {entry.Value}: it does not resolve under {d.Roots.DriverRoot}"); continue; }
            if (slots[j] == path) continue;
            if (!(d.Wsl is null ? Select(d, names[j], path, log) : SelectWsl(slots[j], path, log))) continue;
            log.Info(slots[j] is null ? $"selecting {path}" : $"selecting {path} over {slots[j]}");
            slots[j] = path;
        }
        for (var j = 0; j < names.Count; j++)
            if (slots[j] is null) log.Warning($"missing {(lib32 ? "compat32 " : "")}library {names[j]}");
        return slots.Where(s => s is not null).Select(s => s!).ToList();
    }

    /// <summary>The library name prefixes in lookup order (utility, compute, ngx, video, graphics+glvnd), filtered by capability.</summary>
    public static List<string> LibraryNames(DriverCapability caps)
    {
        caps = DriverCapabilities.ForLibraries(caps);
        return DriverCapabilities.Libraries.Where(l => (caps & l.Capability) != 0).SelectMany(l => l.Prefixes).ToList();
    }

    static bool Select(CliDriver d, string name, string path, Log log)
    {
        var host = d.Roots.InDriverRoot(path);
        if (!ElfReader.TryRead(host, out _, out var error))
            throw new ContainerCliException($"detection error: {error}");
        // Old drivers ship two libnvidia-tls; only the one tagged with the "new TLS" ABI (kernel 2.3.99) is usable.
        if (name.StartsWith("libnvidia-tls.so", StringComparison.Ordinal) &&
            !(ElfReader.TryReadAbiTag(host, out var tag) && tag.Matches(2, 3, 99)))
        {
            log.Info($"skipping {path}");
            return false;
        }
        if (!Path.GetFileName(path).EndsWith(d.NvrmVersion ?? "", StringComparison.Ordinal))
        {
            log.Info($"skipping {path}");
            return false;
        }
        return true;
    }

    public const string DxcoreLibrary = "libdxcore.so";

    // WSL: no ELF or version checks, and a library already selected from /usr/lib/wsl/lib ("lxss") is kept.
    static bool SelectWsl(string? selected, string path, Log log)
    {
        if (selected is not null && selected.Contains("/wsl/lib/", StringComparison.Ordinal)) { log.Info($"skipping {path}"); return false; }
        return true;
    }

    /// <summary>Utility then compute binaries, first hit per name along $PATH, each directory looked up inside the root.</summary>
    public static List<string> Binaries(CliDriver d, DriverCapability caps, Log log)
    {
        var names = new List<string>();
        if ((caps & DriverCapability.Utility) != 0) names.AddRange(DriverCapabilities.UtilityBinaries);
        if ((caps & DriverCapability.Compute) != 0) names.AddRange(DriverCapabilities.ComputeBinaries);
        var pathVar = Environment.GetEnvironmentVariable("PATH")
                      ?? throw new ContainerCliException("detection error: environment variable PATH not found");
        var slots = new string?[names.Count];
        // On WSL the driver store's copy of a binary (nvidia-smi) comes first.
        if (d.Wsl is { } wsl)
            for (var j = 0; j < names.Count; j++)
                if (Resolve(d.Roots, d.Roots.ToContainerPath(Path.Combine(wsl.Store, names[j]))) is { } inStore &&
                    File.Exists(d.Roots.InDriverRoot(inStore))) { slots[j] = inStore; log.Info($"selecting {inStore}"); }
        foreach (var dir in pathVar.Split(':').Select(p => p.Length == 0 ? "." : p))
            for (var j = 0; j < names.Count; j++)
            {
                if (slots[j] is not null) continue;
                var path = Resolve(d.Roots, "/" + Path.Combine(dir, names[j]).TrimStart('.', '/'));
                if (path is not null && !Directory.Exists(d.Roots.InDriverRoot(path))) { slots[j] = path; log.Info($"selecting {path}"); }
            }
        for (var j = 0; j < names.Count; j++)
            if (slots[j] is null) log.Warning($"missing binary {names[j]}");
        return slots.Where(s => s is not null).Select(s => s!).ToList();
    }

    /// <summary>The persistence daemon's and fabric manager's sockets (utility) and the MPS pipe directory (compute).</summary>
    public static List<string> Ipcs(CliDriver d, DriverCapability caps, DriverOptions o, Log log)
    {
        var wanted = new List<string>();
        if ((caps & DriverCapability.Utility) != 0)
        {
            if (!o.NoPersistenced) wanted.Add(Persistenced);
            if (!o.NoFabricManager) wanted.Add(FabricManager);
        }
        if ((caps & (DriverCapability.Compute | DriverCapability.Video)) != 0)
            wanted.Add(Environment.GetEnvironmentVariable("CUDA_MPS_PIPE_DIRECTORY") is { Length: > 0 } mps ? mps : "/tmp/nvidia-mps");
        var found = new List<string>();
        foreach (var w in wanted)
        {
            var path = Resolve(d.Roots, w);
            if (path is null) { log.Warning($"missing ipc path {w}"); continue; }
            log.Info($"listing ipc path {path}");
            found.Add(path);
        }
        return found;
    }

    /// <summary>GSP firmware files, printed at their unresolved path /lib/firmware/nvidia/VERSION/gsp*.bin.</summary>
    public static List<string> Firmwares(CliDriver d, DriverOptions o, Log log)
    {
        if (o.NoGspFirmware) return new();
        if (d.Wsl is not null) { log.Info("skipping path lookup for dxcore"); return new(); }
        var dir = $"/lib/firmware/nvidia/{d.NvrmVersion}";
        var resolved = Resolve(d.Roots, dir);
        var hostDir = resolved is null ? null : d.Roots.InDriverRoot(resolved);
        if (hostDir is null || !Directory.Exists(hostDir)) { log.Warning($"missing firmware path {dir}/gsp*.bin"); return new(); }
        var files = Directory.EnumerateFileSystemEntries(hostDir).Select(Path.GetFileName)
            .Where(n => Glob.Match("gsp*.bin", n!)).Order(StringComparer.Ordinal).Select(n => $"{dir}/{n}").ToList();
        foreach (var f in files) log.Info($"listing firmware path {f}");
        return files;
    }

    /// <summary>The driver's own device nodes: nvidiactl always (not even stat'ed), the others only when present.</summary>
    public static List<string> ControlDevices(CliDriver d, DriverCapability? caps)
    {
        // On WSL the one node is /dev/dxg, behind which are all the GPUs.
        if (d.Wsl is { } wsl) return [d.Roots.DevToContainerPath(wsl.Dxg)];
        var nodes = new List<string> { "/dev/nvidiactl" };
        bool Wanted(DriverCapability c) => caps is null || (caps.Value & c) != 0;
        foreach (var (node, cap) in DriverCapabilities.ControlNodes)
            if (Wanted(cap) && Resolve(d.Roots, node) is not null) nodes.Add(node);
        return nodes;
    }

    /// <summary>A path inside the root with its symlinks followed inside the root, relative to the root; null when missing.</summary>
    public static string? Resolve(HostRoots roots, string path) => DriverRootPath.Resolve(roots.DriverRoot, path);
}

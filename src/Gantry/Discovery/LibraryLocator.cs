using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery;

// Finds driver libraries under a driver root: first through the root's ld.so.cache (what the dynamic
// linker itself would use), then through the usual library directories when the cache is missing or corrupt.
internal sealed class LibraryLocator
{
    static readonly string[] SearchDirectories =
    [
        "/", "/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/x86_64-linux-gnu/nvidia/current",
        "/usr/lib/aarch64-linux-gnu/nvidia/current", "/lib64", "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
        "/lib/x86_64-linux-gnu/nvidia/current", "/lib/aarch64-linux-gnu/nvidia/current",
    ];

    readonly string _root;
    readonly IReadOnlyList<string>? _explicitDirs;
    readonly IReadOnlyList<LdCacheEntry>? _cache;
    // The 32-bit entries of the cache (i386 beside x86-64, ARM hard-float beside aarch64): compat32 libraries.
    readonly IReadOnlyList<LdCacheEntry>? _cache32;
    List<(string Real, string[] Names)>? _resolvedCache;
    List<(string Real, string[] Names)>? _resolvedCache32;

    public string? CacheProblem { get; }

    public LibraryLocator(HostRoots roots, IReadOnlyList<string>? explicitSearchPaths, Log log, string? ldCachePath = null)
    {
        _root = roots.DriverRoot;
        if (explicitSearchPaths is { Count: > 0 }) { _explicitDirs = explicitSearchPaths; return; }
        var cachePath = ldCachePath ?? roots.InDriverRoot("/etc/ld.so.cache");
        if (!File.Exists(cachePath)) { log.Debug($"no ld.so.cache at {cachePath}; searching the library directories"); return; }
        if (LdCache.TryLoad(cachePath, out var cache, out var error))
        {
            var arm = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64;
            var arch = Environment.Is64BitProcess && arm ? LdCache.ArchAarch64 : LdCache.ArchX8664;
            _cache = cache!.Entries.Where(e => (e.Flags & 1) != 0 && (e.Flags & LdCache.ArchMask) == arch).ToList();
            var arch32 = arm ? LdCache.ArchArmHf : LdCache.ArchI386;
            _cache32 = cache.Entries.Where(e => (e.Flags & 1) != 0 && (e.Flags & LdCache.ArchMask) == arch32).ToList();
        }
        else
        {
            CacheProblem = error;
            log.Warning($"{error}; falling back to the library search paths");
        }
    }

    /// <summary>Real (symlink-resolved) host paths of the libraries whose name (or any name in its link chain) matches.</summary>
    public List<string> Locate(string pattern)
    {
        var found = new List<string>();
        if (_explicitDirs is not null) { Search(_explicitDirs, "/", "/", pattern, found); return found; }
        if (_cache is not null)
        {
            foreach (var (real, names) in ResolvedCache())
                if (names.Any(n => Glob.Match(pattern, n)) && !found.Contains(real)) found.Add(real);
            if (found.Count > 0) return found;
        }
        Search(SearchDirectories, _root, _root, pattern, found);
        return found;
    }

    /// <summary>As <see cref="Locate"/> among the 32-bit entries of the ld.so.cache only (the way libnvidia-container
    /// finds compat32 libraries); empty without a cache or with explicit search paths.</summary>
    public List<string> Locate32(string pattern)
    {
        if (_cache32 is null) return [];
        var found = new List<string>();
        foreach (var (real, names) in _resolvedCache32 ??= Resolve(_cache32))
            if (names.Any(n => Glob.Match(pattern, n)) && !found.Contains(real)) found.Add(real);
        return found;
    }

    // Each cache entry's link chain is walked once per process, however many patterns are looked up.
    List<(string Real, string[] Names)> ResolvedCache() => _resolvedCache ??= Resolve(_cache!);

    List<(string Real, string[] Names)> Resolve(IReadOnlyList<LdCacheEntry> entries)
    {
        var resolved = new List<(string, string[])>();
        foreach (var e in entries)
        {
            var chain = new List<string>();
            var real = DriverRootPath.ResolveFile(_root, HostRoots.Join(_root, e.Value), chain);
            if (real is null) continue;
            chain.Add(real);
            resolved.Add((real, chain.Select(c => Path.GetFileName(c)).ToArray()));
        }
        return resolved;
    }

    static void Search(IEnumerable<string> dirs, string root, string resolveRoot, string pattern, List<string> found)
    {
        foreach (var d in dirs)
        {
            var dir = HostRoots.Join(root, d);
            if (!Directory.Exists(dir)) continue;
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                if (!Glob.Match(pattern, Path.GetFileName(entry))) continue;
                var real = DriverRootPath.ResolveFile(resolveRoot, entry);
                if (real is not null && File.Exists(real) && !found.Contains(real)) found.Add(real);
            }
        }
    }

    /// <summary>Files matching pattern directly inside the given host directories (no cache), symlinks resolved.</summary>
    public List<string> LocateIn(IEnumerable<string> hostDirs, string pattern)
    {
        var found = new List<string>();
        Search(hostDirs, "/", _root, pattern, found);
        return found;
    }
}

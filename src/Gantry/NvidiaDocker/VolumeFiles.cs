using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Elf;
using Gantry.Host;

namespace Gantry.NvidiaDocker;

/// <summary>The host files (real paths, symlinks resolved inside the driver root) that go into the driver volume.</summary>
internal sealed record VolumeFiles(IReadOnlyList<string> Binaries, IReadOnlyList<string> Libraries32, IReadOnlyList<string> Libraries64);

// What nvidia-docker 1.0 put in the driver volume: five utilities from $PATH and the compute, video and graphics
// libraries whose ld.so.cache name starts with one of its prefixes (32-bit into lib/, 64-bit into lib64/), less
// other vendors' GL libraries and the old-ABI libnvidia-tls. Everything is looked up under the driver root.
internal static partial class DriverVolumeFiles
{
    public static readonly string[] BinaryNames =
        ["nvidia-cuda-mps-control", "nvidia-cuda-mps-server", "nvidia-debugdump", "nvidia-persistenced", "nvidia-smi"];

    public static readonly string[] LibraryPrefixes =
    [
        // compute
        "libnvidia-ml.so", "libcuda.so", "libnvidia-ptxjitcompiler.so", "libnvidia-fatbinaryloader.so", "libnvidia-opencl.so",
        "libnvidia-compiler.so",
        // video
        "libvdpau_nvidia.so", "libnvidia-encode.so", "libnvcuvid.so", "libnvidia-fbc.so", "libnvidia-ifr.so",
        // graphics: GLVND loaders and the vendor libraries behind them
        "libGL.so", "libGLX.so", "libOpenGL.so", "libGLESv1_CM.so", "libGLESv2.so", "libEGL.so", "libGLdispatch.so",
        "libGLX_nvidia.so", "libEGL_nvidia.so", "libGLESv2_nvidia.so", "libGLESv1_CM_nvidia.so", "libnvidia-eglcore.so",
        "libnvidia-egl-wayland.so", "libnvidia-glcore.so", "libnvidia-tls.so", "libnvidia-glsi.so",
    ];

    [GeneratedRegex(@"^.*/lib([\w-]+)\.so[\d.]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex LibraryName();

    [GeneratedRegex(@"libnvidia-e?glcore\.so|libGLdispatch\.so", RegexOptions.CultureInvariant)]
    private static partial Regex NvidiaGlDependency();

    public static VolumeFiles Collect(HostRoots roots, Log log)
    {
        var cachePath = roots.InDriverRoot("/etc/ld.so.cache");
        if (!LdCache.TryLoad(DriverRootPath.ResolveFile(roots.DriverRoot, cachePath) ?? cachePath, out var cache, out var error))
            throw new GantryException($"cannot list the driver libraries: {error}");
        var (arch64, arch32) = LdCache.ArchesFor(RuntimeInformation.ProcessArchitecture);
        var lib64 = new List<string>();
        var lib32 = new List<string>();
        foreach (var entry in cache.Entries)
        {
            var list = LdCache.IsFor(entry, arch64) ? lib64 : arch32 is { } a32 && LdCache.IsFor(entry, a32) ? lib32 : null;
            if (list is null || !LibraryPrefixes.Any(p => entry.Key.StartsWith(p, StringComparison.Ordinal))) continue;
            var real = DriverRootPath.ResolveFile(roots.DriverRoot, roots.InDriverRoot(entry.Value));
            if (real is null || !File.Exists(real)) { log.Debug($"skipping {entry.Value}: it does not resolve under {roots.DriverRoot}"); continue; }
            if (list.Contains(real) || IsExcluded(real, log)) continue;
            list.Add(real);
        }
        var binaries = DriverFiles.Binaries(roots, BinaryNames)
            .Select(b => DriverRootPath.ResolveFile(roots.DriverRoot, b) ?? b).Distinct().ToList();
        return new VolumeFiles(binaries, lib32, lib64);
    }

    /// <summary>Another vendor's libGL/libEGL/libGLES (no NVIDIA or GLVND dependency), or libnvidia-tls of the old TLS ABI.</summary>
    static bool IsExcluded(string path, Log log)
    {
        var m = LibraryName().Match(path);
        if (!m.Success) return false;
        switch (m.Groups[1].Value)
        {
            case "EGL" or "GLESv1_CM" or "GLESv2" or "GL":
                if (!ElfReader.TryRead(path, out var elf, out var error)) throw new GantryException($"{path}: {error}");
                if (elf.Needed.Any(n => NvidiaGlDependency().IsMatch(n))) return false;
                log.Debug($"leaving out {path}: not NVIDIA's or GLVND's");
                return true;
            case "nvidia-tls":
                if (ElfReader.TryReadAbiTag(path, out var tag) && tag.Matches(2, 3, 99)) return false;
                log.Debug($"leaving out {path}: not the 2.3.99 TLS ABI");
                return true;
            default:
                return false;
        }
    }
}

using Gantry.Common;
using Gantry.Discovery;
using Gantry.Elf;
using Gantry.Host;

namespace Gantry.Simulation;

/// <summary>Where the parts of a simulated host ended up.</summary>
internal sealed record SimulatedHost(string Directory, string DriverRoot, string DevRoot, NvmlSnapshot Facts, bool RealDeviceNodes, bool NvmlStandIn);

// Writes the user-space half of a driver install (libraries, ld.so.cache, binaries, firmware, configs,
// sockets) into a driver root; SimulatedKernel writes the kernel half (/proc, /sys, /dev).
internal static class SimulatedHostWriter
{
    public const string MarkerFile = HostRoots.SimulatedHostMarker;
    const string LibDir = "usr/lib/x86_64-linux-gnu";
    const string Lib32Dir = "usr/lib/i386-linux-gnu";

    /// <summary>The flags a host was written with (for `gantry simulate --update`); throws when DIR is no simulated host.</summary>
    public static IReadOnlyList<string> SavedFlags(string directory)
    {
        var marker = Path.Combine(Path.GetFullPath(directory), MarkerFile);
        if (!File.Exists(marker))
            throw new GantryException($"cannot update {Path.GetFullPath(directory)}: it is not a simulated host (no {MarkerFile}); write one with 'gantry simulate DIR' first");
        return File.ReadAllLines(marker).Where(l => l.StartsWith(FlagLine, StringComparison.Ordinal)).Select(l => l[FlagLine.Length..]).ToList();
    }

    /// <summary>
    /// Changes a simulated host in place, as a driver upgrade, a MIG reconfiguration or a GPU swap changes a real one:
    /// the driver's files and the kernel's view (/proc, /sys, /dev) are replaced, anything else in DIR stays.
    /// </summary>
    public static SimulatedHost Update(string directory, SimulationOptions o, IReadOnlyList<string> flags, Log log)
    {
        var top = Path.GetFullPath(directory);
        var saved = SavedFlags(top);
        var oldPrefix = saved.FirstOrDefault(a => a.StartsWith("--driver-root-prefix=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('/') ?? "";
        if (oldPrefix != o.DriverRootPrefix)
            throw new GantryException($"cannot move the driver of {top} from '{oldPrefix}' to '{o.DriverRootPrefix}' in place; simulate a new host instead");
        var driverRoot = o.DriverRootPrefix.Length == 0 ? top : Path.Combine(top, o.DriverRootPrefix);
        foreach (var part in new[] { Path.Combine(driverRoot, LibDir), Path.Combine(driverRoot, Lib32Dir), Path.Combine(driverRoot, "lib/firmware/nvidia"),
                     Path.Combine(driverRoot, "usr/bin"), Path.Combine(driverRoot, "run/nvidia-persistenced"), Path.Combine(driverRoot, "usr/lib/wsl"),
                     Path.Combine(top, "proc"), Path.Combine(top, "sys"), Path.Combine(top, "dev") })
            if (Directory.Exists(part)) Directory.Delete(part, recursive: true);
        return Write(top, o, log, flags);
    }

    const string FlagLine = "flag ";

    public static SimulatedHost Write(string directory, SimulationOptions o, Log log, IReadOnlyList<string>? flags = null)
    {
        var top = Path.GetFullPath(directory);
        if (File.Exists(top)) throw new GantryException($"cannot simulate a host in {top}: it is a file; give a directory");
        if (Directory.Exists(top) && Directory.EnumerateFileSystemEntries(top).Any() && !File.Exists(Path.Combine(top, MarkerFile)))
            throw new GantryException($"cannot simulate a host in {top}: the directory is not empty and not a simulated host; give a new or empty directory");
        Directory.CreateDirectory(top);
        var driverRoot = o.DriverRootPrefix.Length == 0 ? top : Path.Combine(top, o.DriverRootPrefix);
        Directory.CreateDirectory(driverRoot);
        var facts = SimulatedGpus.Build(o);
        if (o.Wsl) return SimulatedWslHost.Write(top, o, facts, log);
        var v = o.DriverVersion;

        var cache = new List<LdCacheEntry>();
        foreach (var lib in DriverFileSet.Libraries)
        {
            if (!o.WithGraphics && lib.Group == "graphics") continue;
            if (lib.Stem == "libnvidia-ml") continue;
            var dir = lib.SubDir.Length == 0 ? LibDir : LibDir + "/" + lib.SubDir;
            WriteLibrary(driverRoot, dir, lib.FileName(v), lib.Soname(v), ElfArch.X86_64, lib.DevLink ? lib.Stem + ".so" : null, cache, lib.SubDir.Length == 0);
        }
        if (o.WithGraphics)
            foreach (var (file, soname) in DriverFileSet.EglPlatformLibraries)
                WriteLibrary(driverRoot, LibDir, file, soname, ElfArch.X86_64, null, cache, true);
        var standIn = WriteNvml(driverRoot, o, facts, cache, log);
        if (o.WithCompat32)
            foreach (var stem in DriverFileSet.Compat32Stems)
            {
                var lib = DriverFileSet.Libraries.First(l => l.Stem == stem);
                WriteLibrary(driverRoot, Lib32Dir, lib.FileName(v), lib.Soname(v), ElfArch.I386, null, cache, true);
            }
        File.WriteAllText(Path.Combine(driverRoot, "etc/ld.so.conf").EnsureParent(), $"/{LibDir}\n" + (o.WithCompat32 ? $"/{Lib32Dir}\n" : ""));
        // The dynamic linker binary-searches the cache, so it must be in ldconfig's order.
        File.WriteAllBytes(Path.Combine(driverRoot, "etc/ld.so.cache"), LdCacheWriter.Write(LdCacheWriter.SortLikeLdconfig(cache).ToList()));

        WriteBinaries(driverRoot, facts);
        if (o.WithFirmware)
            foreach (var fw in new[] { "gsp_ga10x.bin", "gsp_tu10x.bin" })
                File.WriteAllText(Path.Combine(driverRoot, $"lib/firmware/nvidia/{v}/{fw}").EnsureParent(), $"simulated GSP firmware {v}\n");
        if (o.WithGraphics) WriteGraphics(driverRoot, v);
        // GDS containers also get the udev database and the cuFile configuration.
        if (o.GatedFamilies.Contains("gds"))
        {
            Directory.CreateDirectory(Path.Combine(driverRoot, "run/udev"));
            File.WriteAllText(Path.Combine(driverRoot, "etc/cufile.json").EnsureParent(), "{ \"logging\": { \"level\": \"ERROR\" } }\n");
        }
        if (o.WithIpc) CreateSocket(Path.Combine(driverRoot, "run/nvidia-persistenced/socket"));
        // As on every current distribution, /var/run is /run (the original CLI looks sockets up under /var/run).
        if (Directory.Exists(Path.Combine(driverRoot, "run"))) Symlink(Path.Combine(driverRoot, "var/run").EnsureParent(), "../run");

        var real = SimulatedKernel.Write(top, driverRoot, o, facts, log);
        var description = $"gantry simulated host: {o.GpuCount} GPU(s), driver {v}, CUDA {facts.CudaVersionText}\n" +
                          string.Concat((flags ?? []).Select(a => FlagLine + a + "\n"));
        File.WriteAllText(Path.Combine(top, MarkerFile), description);
        if (driverRoot != top) File.WriteAllText(Path.Combine(driverRoot, MarkerFile), description);
        return new SimulatedHost(top, driverRoot, top, facts, real, standIn);
    }

    static void WriteLibrary(string root, string dir, string file, string soname, ElfArch arch, string? devLink, List<LdCacheEntry> cache, bool inCache)
    {
        var path = Path.Combine(root, dir, file).EnsureParent();
        // Real libnvidia-tls carries the "new TLS" ABI tag (Linux 2.3.99) that libnvidia-container selects it by.
        var notes = file.StartsWith("libnvidia-tls.so", StringComparison.Ordinal) ? new[] { ElfNote.AbiTag(0, 2, 3, 99) } : null;
        File.WriteAllBytes(path, ElfWriter.SharedObject(arch, soname, ["libc.so.6"], notes));
        LinkFinish(root, dir, file, soname, arch, devLink, cache, inCache);
    }

    static void LinkFinish(string root, string dir, string file, string soname, ElfArch arch, string? devLink, List<LdCacheEntry> cache, bool inCache)
    {
        if (soname != file) Symlink(Path.Combine(root, dir, soname), file);
        if (devLink is not null) Symlink(Path.Combine(root, dir, devLink), soname);
        if (inCache)
            cache.Add(new LdCacheEntry(soname, $"/{dir}/{soname}",
                LdCache.FlagElfLibc6 | (arch == ElfArch.I386 ? LdCache.ArchI386 : LdCache.ArchX8664)));
    }

    // The NVML stand-in is a real library that answers NVML calls from the facts file beside it.
    static bool WriteNvml(string root, SimulationOptions o, NvmlSnapshot facts, List<LdCacheEntry> cache, Log log)
    {
        var file = $"libnvidia-ml.so.{o.DriverVersion}";
        var target = Path.Combine(root, LibDir, file).EnsureParent();
        var standIn = o.WithNvml ? NvmlStandInPath(o) : null;
        if (o.WithNvml && standIn is null)
            log.Warning("the NVML stand-in (gantry-nvml-standin.so) was not found next to gantry; writing a library without NVML, so discovery will use procfs");
        if (standIn is not null)
        {
            File.Copy(standIn, target, overwrite: true);
            NvmlFacts.Write(Path.Combine(root, LibDir, "gantry-nvml-facts.txt"), facts,
                SimulatedTelemetry.Extras(facts), SimulatedTelemetry.Topology(facts), new NvmlStartup(o.Persistence, o.NvmlInitDelayMs));
        }
        else File.WriteAllBytes(target, ElfWriter.SharedObject(ElfArch.X86_64, "libnvidia-ml.so.1"));
        LinkFinish(root, LibDir, file, "libnvidia-ml.so.1", ElfArch.X86_64, "libnvidia-ml.so", cache, true);
        return standIn is not null;
    }

    internal static string? NvmlStandInPath(SimulationOptions o)
    {
        var candidates = new[]
        {
            o.NvmlStandIn, Environment.GetEnvironmentVariable("GANTRY_NVML_STANDIN"),
            Path.Combine(Path.GetDirectoryName(Environment.ProcessPath) ?? ".", "gantry-nvml-standin.so"),
            Path.Combine(AppContext.BaseDirectory, "gantry-nvml-standin.so"),
        };
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c));
    }

    static void WriteBinaries(string root, NvmlSnapshot facts)
    {
        foreach (var bin in DriverFileSet.Binaries)
        {
            var body = bin == "nvidia-smi" ? NvidiaSmiScript(facts) : $"#!/bin/sh\necho \"{bin} (gantry simulated driver {facts.DriverVersion})\"\n";
            var path = Path.Combine(root, "usr/bin", bin).EnsureParent();
            File.WriteAllText(path, body);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
    }

    // A stand-in nvidia-smi that, like the real one, lists only the GPUs whose device nodes it can see.
    static string NvidiaSmiScript(NvmlSnapshot facts)
    {
        var w = new StringWriter();
        w.Write("#!/bin/sh\n# nvidia-smi stand-in written by `gantry simulate`: lists the GPUs whose /dev/nvidiaN exists.\n");
        w.Write($"if [ \"$1\" != \"-L\" ]; then echo \"NVIDIA-SMI {facts.DriverVersion} (gantry simulated)   Driver Version: {facts.DriverVersion}   CUDA Version: {facts.CudaVersionText}\"; fi\n");
        w.Write("found=0\n");
        foreach (var g in facts.Gpus)
            w.Write($"if [ -e /dev/nvidia{g.Minor} ]; then echo \"GPU {g.Index}: {g.Name} (UUID: {g.Uuid})\"; found=1; fi\n");
        w.Write("if [ $found = 0 ]; then echo \"No devices were found\"; exit 6; fi\n");
        return w.ToString();
    }

    static void WriteGraphics(string root, string v)
    {
        foreach (var (path, content) in DriverFileSet.GraphicsConfigs)
            File.WriteAllText(Path.Combine(root, path).EnsureParent(), content);
        var xorg = Path.Combine(root, LibDir, "nvidia/xorg");
        File.WriteAllBytes(Path.Combine(xorg, "nvidia_drv.so").EnsureParent(), ElfWriter.SharedObject(ElfArch.X86_64, "nvidia_drv.so"));
        File.WriteAllBytes(Path.Combine(xorg, $"libglxserver_nvidia.so.{v}"), ElfWriter.SharedObject(ElfArch.X86_64, $"libglxserver_nvidia.so.{v}"));
        Symlink(Path.Combine(xorg, "libglxserver_nvidia.so"), $"libglxserver_nvidia.so.{v}");
        var xconfig = Path.Combine(root, "usr/bin/nvidia-xconfig");
        File.WriteAllText(xconfig, "#!/bin/sh\necho nvidia-xconfig (gantry simulated)\n");
        File.SetUnixFileMode(xconfig, (UnixFileMode)0b111_101_101);
    }

    internal static void Symlink(string link, string target)
    {
        if (File.Exists(link) || Directory.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
        File.CreateSymbolicLink(link, target);
    }

    // A real socket file, as the persistence daemon leaves; sun_path is short, so long paths bind relative.
    static void CreateSocket(string path)
    {
        path.EnsureParent();
        if (Host.FileStatus.TryLstat(path, out _)) File.Delete(path);
        var cwd = Environment.CurrentDirectory;
        try
        {
            var name = path;
            if (path.Length >= 100) { Environment.CurrentDirectory = Path.GetDirectoryName(path)!; name = Path.GetFileName(path); }
            var errno = Host.Interop.CreateSocketFile(name);
            if (errno != 0) throw new GantryException($"cannot create the simulated socket {path} (errno {errno})");
        }
        finally { Environment.CurrentDirectory = cwd; }
    }
}

internal static class PathExtensions
{
    /// <summary>Creates the parent directory of a file path and returns the path.</summary>
    public static string EnsureParent(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}

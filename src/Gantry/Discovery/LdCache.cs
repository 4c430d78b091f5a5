using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Gantry.Discovery;

/// <summary>One ld.so.cache entry: key is the library name (a SONAME), value the path it resolves to.</summary>
internal sealed record LdCacheEntry(string Key, string Value, int Flags);

/// <summary>A parsed ld.so.cache: the entries in file order (the order ldconfig sorted them in).</summary>
internal sealed class LdCache
{
    public const int FlagElf = 0x0001;
    public const int FlagElfLibc6 = 0x0003;
    public const int FlagTypeMask = 0x00ff;
    public const int ArchMask = 0xff00;
    public const int ArchI386 = 0x0000;
    public const int ArchX8664 = 0x0300;
    public const int ArchPowerPc64 = 0x0500;
    public const int ArchX32 = 0x0800;
    public const int ArchArmHf = 0x0900;
    public const int ArchAarch64 = 0x0a00;

    public IReadOnlyList<LdCacheEntry> Entries { get; }

    /// <summary>Which layout the file had (Compat = old entries followed by a new-format cache).</summary>
    public LdCacheFormat Format { get; }

    internal LdCache(IReadOnlyList<LdCacheEntry> entries, LdCacheFormat format)
    {
        Entries = entries;
        Format = format;
    }

    /// <summary>Parses the new, old or compat layout; throws InvalidDataException with a clear message on a bad file.</summary>
    public static LdCache Parse(ReadOnlySpan<byte> data) => LdCacheParser.Parse(data);

    public static bool TryLoad(string path, [NotNullWhen(true)] out LdCache? cache, [NotNullWhen(false)] out string? error)
    {
        cache = null;
        try
        {
            cache = Parse(ReadBounded(path));
            error = null;
            return true;
        }
        catch (InvalidDataException e) { error = $"invalid ld.so.cache {path}: {e.Message}"; }
        catch (FileNotFoundException) { error = $"ld.so.cache not found: {path}"; }
        catch (DirectoryNotFoundException) { error = $"ld.so.cache not found: {path}"; }
        catch (UnauthorizedAccessException e) { error = $"cannot read ld.so.cache {path}: {e.Message}"; }
        catch (IOException e) { error = $"cannot read ld.so.cache {path}: {e.Message}"; }
        return false;
    }

    // Real caches are tens to hundreds of KiB. The cap also stops a hostile root's /dev/zero-like "cache" from
    // being read forever (such files report length 0, so File.ReadAllBytes would keep going).
    const int MaxFileSize = 64 << 20;

    static ArraySegment<byte> ReadBounded(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return Host.BoundedRead.All(fs.Length, MaxFileSize, b => fs.Read(b.Span), () => new InvalidDataException($"file is larger than {MaxFileSize >> 20} MiB"));
    }

    /// <summary>True for ELF entries of the given arch (one of the Arch* values), as libnvidia-container filters them.</summary>
    public static bool IsFor(LdCacheEntry entry, int arch) =>
        (entry.Flags & ArchMask) == arch && (entry.Flags & FlagElf) != 0;

    /// <summary>The ELF entries for one arch, in file order.</summary>
    public IEnumerable<LdCacheEntry> ForArch(int arch) => Entries.Where(e => IsFor(e, arch));

    /// <summary>
    /// The native and 32-bit compat arch flags for a machine (x86-64: 0x0300 and i386; aarch64: 0x0a00 and ARM hard-float).
    /// Lib32 is null where libnvidia-container has no 32-bit libraries (ppc64le and anything else).
    /// </summary>
    public static (int Lib64, int? Lib32) ArchesFor(Architecture machine) => machine switch
    {
        Architecture.X64 => (ArchX8664, ArchI386),
        Architecture.Arm64 => (ArchAarch64, ArchArmHf),
        Architecture.Ppc64le => (ArchPowerPc64, null),
        _ => throw new PlatformNotSupportedException($"no ld.so.cache arch flags known for {machine}"),
    };

    /// <summary>ldconfig's name for an entry's flags, as <c>ldconfig -p</c> prints it (e.g. "libc6,x86-64").</summary>
    public static string Describe(int flags)
    {
        var type = (flags & FlagTypeMask) switch { 0x0001 => "ELF", 0x0002 => "libc5", 0x0003 => "libc6", 0 => "libc4", var t => $"type 0x{t:x}" };
        var arch = (flags & ArchMask) switch
        {
            ArchI386 => "",
            0x0100 => ",64bit",
            0x0200 => ",IA-64",
            ArchX8664 => ",x86-64",
            0x0400 => ",64bit",
            ArchPowerPc64 => ",64bit",
            ArchX32 => ",x32",
            ArchArmHf => ",hard-float",
            ArchAarch64 => ",AArch64",
            var a => $",arch 0x{a:x}",
        };
        return type + arch;
    }
}

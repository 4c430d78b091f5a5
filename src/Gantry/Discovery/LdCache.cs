namespace Gantry.Discovery;

/// <summary>One ld.so.cache entry: key is the library name (a SONAME), value the path it resolves to.</summary>
internal sealed record LdCacheEntry(string Key, string Value, int Flags);

// Stub, filled in by the ld.so.cache work.
internal sealed class LdCache
{
    public const int FlagElfLibc6 = 0x0003;
    public const int ArchMask = 0xff00;
    public const int ArchI386 = 0x0000;
    public const int ArchX8664 = 0x0300;
    public const int ArchX32 = 0x0800;
    public const int ArchArmHf = 0x0900;
    public const int ArchAarch64 = 0x0a00;

    public IReadOnlyList<LdCacheEntry> Entries { get; }
    LdCache(IReadOnlyList<LdCacheEntry> entries) => Entries = entries;

    /// <summary>Parses either format; throws InvalidDataException with a clear message on a bad file.</summary>
    public static LdCache Parse(ReadOnlySpan<byte> data) => throw new NotImplementedException();

    public static bool TryLoad(string path, out LdCache? cache, out string? error) => throw new NotImplementedException();
}

internal enum LdCacheFormat { New, Old, Compat }

internal static class LdCacheWriter
{
    public static byte[] Write(IReadOnlyList<LdCacheEntry> entries, LdCacheFormat format = LdCacheFormat.New) => throw new NotImplementedException();
}

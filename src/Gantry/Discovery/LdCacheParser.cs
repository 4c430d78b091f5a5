using System.Buffers.Binary;
using System.Text;

namespace Gantry.Discovery;

// The ld.so.cache layouts glibc has written (see glibc's dl-cache.h):
//   old    "ld.so-1.7.0" (11 bytes, pad) | u32 nlibs @12 | nlibs x {i32 flags, u32 key, u32 value} | strings
//          key/value are offsets from the end of the entries.
//   new    "glibc-ld.so.cache" "1.1" | u32 nlibs @20 | u32 len_strings @24 | flags, extension offset, unused to @48
//          | nlibs x {i32 flags, u32 key, u32 value, u32 osversion, u64 hwcap} | strings
//          key/value are offsets from the start of the new header.
//   compat an old cache, padded to 8, then a new one (glibc 2.2 - 2.31 default).
// The file is untrusted input: every count, offset and string is checked before use.
internal static class LdCacheParser
{
    public static ReadOnlySpan<byte> OldMagic => "ld.so-1.7.0"u8;
    public static ReadOnlySpan<byte> NewMagic => "glibc-ld.so.cache1.1"u8;
    public const int OldHeaderSize = 16, OldEntrySize = 12, NewHeaderSize = 48, NewEntrySize = 24;

    // Longer than any path ld.so would accept (PATH_MAX); also bounds the work garbage can make us do.
    const int MaxString = 4096;

    public static LdCache Parse(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(NewMagic))
            return new LdCache(ParseNew(data, 0), LdCacheFormat.New);
        if (!data.StartsWith(OldMagic))
            throw new InvalidDataException(data.Length < NewMagic.Length && (NewMagic.StartsWith(data) || OldMagic.StartsWith(data))
                ? $"file is truncated ({data.Length} bytes)"
                : "not an ld.so.cache file (no 'glibc-ld.so.cache1.1' or 'ld.so-1.7.0' magic)");

        if (data.Length < OldHeaderSize)
            throw new InvalidDataException($"old-format header is truncated ({data.Length} bytes, need {OldHeaderSize})");
        var nlibs = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        if (nlibs > (ulong)(data.Length - OldHeaderSize) / OldEntrySize)
            throw new InvalidDataException($"old-format entry count {nlibs} does not fit in the file ({data.Length} bytes)");
        var oldEnd = OldHeaderSize + (int)nlibs * OldEntrySize;

        // glibc aligns the embedded new cache to alignof(struct cache_file_new): 8 on 64-bit hosts, 4 on i386.
        foreach (var start in new[] { (oldEnd + 7) & ~7, oldEnd })
            if (start <= data.Length && data[start..].StartsWith(NewMagic))
                return new LdCache(ParseNew(data[start..], start), LdCacheFormat.Compat);

        return new LdCache(ParseOld(data, (int)nlibs, oldEnd), LdCacheFormat.Old);
    }

    static List<LdCacheEntry> ParseNew(ReadOnlySpan<byte> cache, int fileOffset)
    {
        if (cache.Length < NewHeaderSize)
            throw new InvalidDataException($"new-format header at offset {fileOffset} is truncated ({cache.Length} bytes, need {NewHeaderSize})");
        // Byte 28 says which byte order wrote the file (glibc >= 2.33); 0 means unknown, as older ldconfig left it.
        if ((cache[28] & 3) == 3)
            throw new InvalidDataException("cache was written on a big-endian host");
        var nlibs = BinaryPrimitives.ReadUInt32LittleEndian(cache[20..]);
        if (nlibs > (ulong)(cache.Length - NewHeaderSize) / NewEntrySize)
            throw new InvalidDataException($"entry count {nlibs} does not fit in the file ({cache.Length} bytes after offset {fileOffset})");

        var strings = new StringReader(cache, fileOffset);
        var entries = new List<LdCacheEntry>((int)nlibs);
        for (var i = 0; i < (int)nlibs; i++)
        {
            var e = cache[(NewHeaderSize + i * NewEntrySize)..];
            entries.Add(strings.Entry(i, e));
        }
        return entries;
    }

    static List<LdCacheEntry> ParseOld(ReadOnlySpan<byte> data, int nlibs, int oldEnd)
    {
        var strings = new StringReader(data[oldEnd..], oldEnd);
        var entries = new List<LdCacheEntry>(nlibs);
        for (var i = 0; i < nlibs; i++)
            entries.Add(strings.Entry(i, data[(OldHeaderSize + i * OldEntrySize)..]));
        return entries;
    }

    // Strings are offsets into `table` (which starts at file offset `baseOffset`, used only in messages).
    // Keys repeat rarely but values often share storage, so decoded strings are cached by offset.
    ref struct StringReader(ReadOnlySpan<byte> table, int baseOffset)
    {
        readonly ReadOnlySpan<byte> table = table;
        Dictionary<uint, string>? seen;

        public LdCacheEntry Entry(int index, ReadOnlySpan<byte> e)
        {
            var flags = BinaryPrimitives.ReadInt32LittleEndian(e);
            var key = At(BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), index, "key");
            var value = At(BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), index, "value");
            return new LdCacheEntry(key, value, flags);
        }

        string At(uint offset, int index, string what)
        {
            seen ??= [];
            if (seen.TryGetValue(offset, out var s)) return s;
            if (offset >= (uint)table.Length)
                throw new InvalidDataException(
                    $"entry {index}: {what} offset {offset} points outside the file (string table at offset {baseOffset}, {table.Length} bytes)");
            var rest = table[(int)offset..];
            var nul = rest[..Math.Min(rest.Length, MaxString + 1)].IndexOf((byte)0);
            if (nul < 0)
                throw new InvalidDataException(rest.Length <= MaxString
                    ? $"entry {index}: {what} at file offset {baseOffset + (long)offset} is not NUL-terminated"
                    : $"entry {index}: {what} at file offset {baseOffset + (long)offset} is longer than {MaxString} bytes");
            if (nul == 0)
                throw new InvalidDataException($"entry {index}: {what} at file offset {baseOffset + (long)offset} is empty");
            s = Encoding.UTF8.GetString(rest[..nul]);
            seen[offset] = s;
            return s;
        }
    }
}

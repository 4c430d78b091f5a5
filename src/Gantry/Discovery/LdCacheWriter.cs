using System.Buffers.Binary;
using System.Text;

namespace Gantry.Discovery;

internal enum LdCacheFormat { New, Old, Compat }

// Writes ld.so.cache files in the layouts LdCacheParser reads (see there), so the simulated host gets a
// cache without running ldconfig and the parser can be tested on all three. Entries are written in the
// order given: ld.so binary-searches the cache, so pass them through SortLikeLdconfig for a cache that
// a real dynamic loader will use.
internal static class LdCacheWriter
{
    const byte EndianLittle = 2; // cache_file_new_flags_endian_little, set by glibc >= 2.33
    const uint ExtensionMagic = 0xeaa42174;
    const uint ExtensionTagGenerator = 0;
    static ReadOnlySpan<byte> Generator => "gantry"u8;

    public static byte[] Write(IReadOnlyList<LdCacheEntry> entries, LdCacheFormat format = LdCacheFormat.New)
    {
        foreach (var e in entries)
            if (string.IsNullOrEmpty(e.Key) || string.IsNullOrEmpty(e.Value) || e.Key.Contains('\0') || e.Value.Contains('\0'))
                throw new ArgumentException($"ld.so.cache keys and values must be non-empty without NUL: '{e.Key}' => '{e.Value}'", nameof(entries));

        // One string table shared by both parts, as glibc does; identical strings are stored once.
        var strings = new List<byte>();
        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        int Add(string s)
        {
            if (at.TryGetValue(s, out var o)) return o;
            o = strings.Count;
            strings.AddRange(Encoding.UTF8.GetBytes(s));
            strings.Add(0);
            at[s] = o;
            return o;
        }
        var refs = entries.Select(e => (Key: Add(e.Key), Value: Add(e.Value))).ToArray();

        var n = entries.Count;
        var oldSize = format == LdCacheFormat.New ? 0 : LdCacheParser.OldHeaderSize + n * LdCacheParser.OldEntrySize;
        var newStart = format switch { LdCacheFormat.New => 0, LdCacheFormat.Old => oldSize, _ => (oldSize + 7) & ~7 };
        var newSize = format == LdCacheFormat.Old ? 0 : LdCacheParser.NewHeaderSize + n * LdCacheParser.NewEntrySize;
        var stringsAt = newStart + newSize;
        // glibc >= 2.33 appends extensions after the strings; we add the one that names the generator,
        // which `ldconfig -p` prints. Its offsets count from the start of the file.
        var extensionAt = format == LdCacheFormat.Old ? 0 : (stringsAt + strings.Count + 3) & ~3;
        var buf = new byte[format == LdCacheFormat.Old ? stringsAt + strings.Count : extensionAt + 24 + Generator.Length];
        strings.CopyTo(buf, stringsAt);

        if (format != LdCacheFormat.New)
        {
            // Old offsets count from the end of the old entries, i.e. they skip the padding and the new part.
            LdCacheParser.OldMagic.CopyTo(buf);
            BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(12), (uint)n);
            var rel = stringsAt - oldSize;
            for (var i = 0; i < n; i++)
            {
                var e = buf.AsSpan(LdCacheParser.OldHeaderSize + i * LdCacheParser.OldEntrySize);
                BinaryPrimitives.WriteInt32LittleEndian(e, entries[i].Flags);
                BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)(rel + refs[i].Key));
                BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)(rel + refs[i].Value));
            }
        }
        if (format != LdCacheFormat.Old)
        {
            var h = buf.AsSpan(newStart);
            LdCacheParser.NewMagic.CopyTo(h);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)n);
            BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)strings.Count);
            h[28] = EndianLittle;
            BinaryPrimitives.WriteUInt32LittleEndian(h[32..], (uint)extensionAt);
            var x = buf.AsSpan(extensionAt);
            BinaryPrimitives.WriteUInt32LittleEndian(x, ExtensionMagic);
            BinaryPrimitives.WriteUInt32LittleEndian(x[4..], 1); // one section: {tag, flags, offset, size}
            BinaryPrimitives.WriteUInt32LittleEndian(x[8..], ExtensionTagGenerator);
            BinaryPrimitives.WriteUInt32LittleEndian(x[16..], (uint)extensionAt + 24);
            BinaryPrimitives.WriteUInt32LittleEndian(x[20..], (uint)Generator.Length);
            Generator.CopyTo(x[24..]);
            for (var i = 0; i < n; i++)
            {
                var e = h[(LdCacheParser.NewHeaderSize + i * LdCacheParser.NewEntrySize)..];
                BinaryPrimitives.WriteInt32LittleEndian(e, entries[i].Flags);
                BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)(newSize + refs[i].Key));
                BinaryPrimitives.WriteUInt32LittleEndian(e[8..], (uint)(newSize + refs[i].Value));
                // osversion (@12) and hwcap (@16) stay 0: no minimum kernel, no hwcap subdirectory
            }
        }
        return buf;
    }

    /// <summary>
    /// Orders entries as ldconfig does, which ld.so's binary search relies on: by name descending with runs of
    /// digits compared as numbers (glibc's _dl_cache_libcmp), then by flags descending. The sort is stable.
    /// </summary>
    public static List<LdCacheEntry> SortLikeLdconfig(IEnumerable<LdCacheEntry> entries) =>
        entries.OrderBy(e => e, Comparer<LdCacheEntry>.Create((a, b) =>
        {
            var c = LibCompare(b.Key, a.Key);
            return c != 0 ? c : b.Flags.CompareTo(a.Flags);
        })).ToList();

    /// <summary>glibc's _dl_cache_libcmp: like strcmp, but digit runs compare by value and sort after non-digits.</summary>
    public static int LibCompare(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length)
        {
            if (char.IsAsciiDigit(a[i]))
            {
                if (j >= b.Length || !char.IsAsciiDigit(b[j])) return 1;
                // Compare the digit runs numerically without overflowing: skip leading zeros, then length, then digits.
                int si = i, sj = j;
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                var da = a[si..i].TrimStart('0');
                var db = b[sj..j].TrimStart('0');
                if (da.Length != db.Length) return da.Length.CompareTo(db.Length);
                var c = string.CompareOrdinal(da, db);
                if (c != 0) return Math.Sign(c);
            }
            else if (j < b.Length && char.IsAsciiDigit(b[j])) return -1;
            else if (j >= b.Length) return 1;
            else if (a[i] != b[j]) return a[i].CompareTo(b[j]);
            else { i++; j++; }
        }
        return j < b.Length ? -1 : 0;
    }
}

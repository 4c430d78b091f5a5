using System.Buffers.Binary;
using static Gantry.Elf.ElfConstants;

namespace Gantry.Elf;

// Reads DT_SONAME and DT_NEEDED the way ldconfig does: through PT_DYNAMIC, with DT_STRTAB mapped to a
// file offset by the PT_LOAD segments. Files without program headers fall back to the SHT_DYNAMIC section.
internal static class ElfDynamic
{
    // Real .dynstr tables are KiB to a few MiB; never read more than this for a DT_STRSZ we cannot trust.
    const ulong MaxStringTable = 16 << 20;

    public static (string? Soname, List<string> Needed) Read(ElfFile elf)
    {
        byte[]? dyn = null;
        foreach (var p in elf.ProgramHeaders)
            if (p.Type == PtDynamic) { dyn = elf.ReadSegment(p, "PT_DYNAMIC segment"); break; }

        SectionHeader? dynSection = null;
        if (dyn is null)
        {
            foreach (var s in elf.Sections)
                if (s.Type == ShtDynamic) { dynSection = s; break; }
            if (dynSection is null) return (null, []);
            dyn = elf.ReadSection(dynSection.Value);
        }

        var entries = Entries(dyn, elf.Layout);
        ulong? strtab = null, strsz = null;
        foreach (var (tag, val) in entries)
        {
            if (tag == DtStrtab) strtab ??= val;
            else if (tag == DtStrsz) strsz ??= val;
        }
        var needsStrings = entries.Exists(e => e.Tag is DtSoname or DtNeeded);
        if (!needsStrings) return (null, []);

        byte[] strings;
        if (dynSection is { } ds && ds.Link < elf.Sections.Length && elf.Sections[ds.Link].Type == ShtStrtab)
        {
            strings = elf.ReadSection(elf.Sections[ds.Link]);
        }
        else
        {
            if (strtab is null) throw new ElfFormatException("dynamic section has DT_SONAME/DT_NEEDED but no DT_STRTAB");
            var off = elf.FileOffsetOf(strtab.Value) ?? FileOffsetFromSections(elf, strtab.Value)
                ?? throw new ElfFormatException($"DT_STRTAB address 0x{strtab.Value:x} is not inside any PT_LOAD segment");
            strings = elf.ReadClamped(off, Math.Min(strsz ?? MaxStringTable, MaxStringTable), "dynamic string table");
        }

        string? soname = null;
        var needed = new List<string>();
        foreach (var (tag, val) in entries)
        {
            if (tag == DtSoname) soname ??= ElfFile.StringAt(strings, val, "DT_SONAME");
            else if (tag == DtNeeded) needed.Add(ElfFile.StringAt(strings, val, "DT_NEEDED"));
        }
        return (soname, needed);
    }

    // Entries up to DT_NULL (or the end of the segment: some linkers pad, some files are cut short).
    static List<(long Tag, ulong Val)> Entries(ReadOnlySpan<byte> dyn, ElfLayout layout)
    {
        var result = new List<(long, ulong)>();
        for (var pos = 0; dyn.Length - pos >= layout.DynSize; pos += layout.DynSize)
        {
            var e = dyn[pos..];
            var tag = layout.Is64 ? BinaryPrimitives.ReadInt64LittleEndian(e) : BinaryPrimitives.ReadInt32LittleEndian(e);
            var val = layout.Is64 ? BinaryPrimitives.ReadUInt64LittleEndian(e[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
            if (tag == DtNull) break;
            result.Add((tag, val));
        }
        return result;
    }

    static ulong? FileOffsetFromSections(ElfFile elf, ulong vaddr)
    {
        foreach (var s in elf.Sections)
            if ((s.Flags & ShfAlloc) != 0 && s.Addr != 0 && vaddr >= s.Addr && vaddr - s.Addr < s.Size)
                return s.Offset + (vaddr - s.Addr);
        return null;
    }
}

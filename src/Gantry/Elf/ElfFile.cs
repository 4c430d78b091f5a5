using System.Buffers.Binary;
using System.Text;
using static Gantry.Elf.ElfConstants;

namespace Gantry.Elf;

internal readonly record struct ProgramHeader(uint Type, uint Flags, ulong Offset, ulong VAddr, ulong FileSize, ulong MemSize, ulong Align);

internal readonly record struct SectionHeader(
    string Name, uint Type, ulong Flags, ulong Addr, ulong Offset, ulong Size, uint Link, uint Info, ulong AddrAlign, ulong EntSize);

// The headers of one little-endian ELF32/ELF64 file. Everything read from the file is treated as hostile:
// counts and offsets are checked before use, and any problem is an ElfFormatException.
internal sealed class ElfFile
{
    readonly ElfSource src;
    readonly ulong phoff, shoff;
    readonly ushort phentsize, shentsize, phnumRaw, shnumRaw, shstrndxRaw;
    ProgramHeader[]? programHeaders;
    SectionHeader[]? sections;

    public ElfClass Class { get; }
    public ElfLayout Layout { get; }
    public ushort Type { get; }
    public ushort Machine { get; }

    ElfFile(ElfSource src, byte[] h)
    {
        this.src = src;
        Class = (ElfClass)h[4];
        Layout = new ElfLayout(Class);
        Type = U16(h, 16);
        Machine = U16(h, 18);
        var is64 = Layout.Is64;
        phoff = is64 ? U64(h, 32) : U32(h, 28);
        shoff = is64 ? U64(h, 40) : U32(h, 32);
        var b = is64 ? 54 : 42; // e_phentsize, then e_phnum, e_shentsize, e_shnum, e_shstrndx
        phentsize = U16(h, b);
        phnumRaw = U16(h, b + 2);
        shentsize = U16(h, b + 4);
        shnumRaw = U16(h, b + 6);
        shstrndxRaw = U16(h, b + 8);
    }

    public static ElfFile Open(ElfSource src)
    {
        if (src.Length < 16)
            throw new ElfFormatException($"file is too short to be ELF ({src.Length} bytes)");
        var ident = src.Read(0, 16, "ELF identification");
        if (ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
            throw new ElfFormatException("not an ELF file (bad magic)");
        if (ident[4] is not (ClassElf32 or ClassElf64))
            throw new ElfFormatException($"unsupported ELF class {ident[4]}");
        if (ident[5] != DataLittleEndian)
            throw new ElfFormatException(ident[5] == 2 ? "big-endian ELF files are not supported" : $"unknown ELF data encoding {ident[5]}");
        var layout = new ElfLayout((ElfClass)ident[4]);
        if (src.Length < layout.EhdrSize)
            throw new ElfFormatException($"truncated ELF header ({src.Length} bytes, need {layout.EhdrSize})");
        return new ElfFile(src, src.Read(0, (ulong)layout.EhdrSize, "ELF header"));
    }

    public ProgramHeader[] ProgramHeaders => programHeaders ??= ReadProgramHeaders();

    public SectionHeader[] Sections => sections ??= ReadSections();

    ProgramHeader[] ReadProgramHeaders()
    {
        int count = phnumRaw == PnXnum ? (int)Math.Min(SectionZero()?.Info ?? 0, 1u << 20) : phnumRaw;
        if (count == 0 || phoff == 0) return [];
        if (phentsize < Layout.PhdrSize)
            throw new ElfFormatException($"program header entry size {phentsize} is smaller than {Layout.PhdrSize}");
        var table = src.Read(phoff, (ulong)count * phentsize, "program header table");
        var result = new ProgramHeader[count];
        for (var i = 0; i < count; i++)
        {
            var e = table.AsSpan(i * phentsize);
            result[i] = Layout.Is64
                ? new ProgramHeader(U32(e, 0), U32(e, 4), U64(e, 8), U64(e, 16), U64(e, 32), U64(e, 40), U64(e, 48))
                : new ProgramHeader(U32(e, 0), U32(e, 24), U32(e, 4), U32(e, 8), U32(e, 16), U32(e, 20), U32(e, 28));
        }
        return result;
    }

    // Section 0 holds the real counts when they do not fit in the ELF header (extended numbering).
    SectionHeader? SectionZero()
    {
        if (shoff == 0 || shentsize < Layout.ShdrSize) return null;
        return ParseSection(src.Read(shoff, (ulong)Layout.ShdrSize, "section header 0"), "");
    }

    SectionHeader[] ReadSections()
    {
        if (shoff == 0) return [];
        if (shentsize < Layout.ShdrSize)
            throw new ElfFormatException($"section header entry size {shentsize} is smaller than {Layout.ShdrSize}");
        ulong count = shnumRaw != 0 ? shnumRaw : SectionZero()?.Size ?? 0;
        if (count == 0) return [];
        if (count > (ulong)ElfSource.MaxRead / shentsize)
            throw new ElfFormatException($"section count {count} is implausibly large");
        var table = src.Read(shoff, count * shentsize, "section header table");
        var raw = new SectionHeader[count];
        for (var i = 0; i < raw.Length; i++)
            raw[i] = ParseSection(table.AsSpan(i * shentsize), "");

        ulong strndx = shstrndxRaw == ShnXindex ? raw[0].Link : shstrndxRaw;
        if (strndx == 0 || strndx >= count) return raw; // no section names: lookups by name find nothing
        var names = src.Read(raw[strndx].Offset, raw[strndx].Size, "section name table");
        for (var i = 0; i < raw.Length; i++)
        {
            raw[i] = raw[i] with { Name = StringAt(names, U32(table, i * shentsize), "section name") };
        }
        return raw;
    }

    SectionHeader ParseSection(ReadOnlySpan<byte> e, string name) => Layout.Is64
        ? new SectionHeader(name, U32(e, 4), U64(e, 8), U64(e, 16), U64(e, 24), U64(e, 32), U32(e, 40), U32(e, 44), U64(e, 48), U64(e, 56))
        : new SectionHeader(name, U32(e, 4), U32(e, 8), U32(e, 12), U32(e, 16), U32(e, 20), U32(e, 24), U32(e, 28), U32(e, 32), U32(e, 36));

    public byte[] ReadSection(SectionHeader s) => src.Read(s.Offset, s.Size, $"section {s.Name}");

    public byte[] ReadSegment(ProgramHeader p, string what) => src.Read(p.Offset, p.FileSize, what);

    /// <summary>Reads up to max bytes at offset, clamped to the end of the file.</summary>
    public byte[] ReadClamped(ulong offset, ulong max, string what)
    {
        if (offset > (ulong)src.Length)
            throw new ElfFormatException($"{what} at offset 0x{offset:x} lies outside the file ({src.Length} bytes)");
        return src.Read(offset, Math.Min(Math.Min(max, (ulong)src.Length - offset), (ulong)ElfSource.MaxRead), what);
    }

    /// <summary>Maps a virtual address to a file offset through the PT_LOAD segments, as ld.so and ldconfig do.</summary>
    public ulong? FileOffsetOf(ulong vaddr)
    {
        foreach (var p in ProgramHeaders)
            if (p.Type == PtLoad && vaddr >= p.VAddr && vaddr - p.VAddr < p.FileSize)
                return p.Offset + (vaddr - p.VAddr);
        return null;
    }

    public static string StringAt(ReadOnlySpan<byte> table, ulong offset, string what)
    {
        if (offset >= (ulong)table.Length)
            throw new ElfFormatException($"{what} offset {offset} lies outside its string table ({table.Length} bytes)");
        var s = table[(int)offset..];
        var nul = s.IndexOf((byte)0);
        if (nul < 0)
            throw new ElfFormatException($"{what} at string table offset {offset} is not NUL-terminated");
        return Encoding.UTF8.GetString(s[..nul]);
    }

    static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);
}

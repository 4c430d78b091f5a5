using System.Buffers.Binary;
using System.Text;
using static Gantry.Elf.ElfConstants;

namespace Gantry.Elf;

internal enum ElfArch { X86_64, I386, Aarch64 }

// Writes small but valid shared objects (SONAME, DT_NEEDED, notes) that ldconfig indexes and ElfReader reads
// back, so the simulated host needs no compiler. Layout: one RW PT_LOAD maps the file from offset 0 at vaddr 0
// (so every address equals its file offset), then PT_DYNAMIC, PT_GNU_STACK and one PT_NOTE per note.
//   ehdr | phdrs | .hash | .dynsym (null symbol) | .dynstr | .note.* | .dynamic | .shstrtab | section headers
internal static class ElfWriter
{
    public static byte[] SharedObject(ElfArch arch, string soname, IReadOnlyList<string>? needed = null, IReadOnlyList<ElfNote>? notes = null)
    {
        needed ??= [];
        notes ??= [];
        CheckName(soname, nameof(soname));
        foreach (var n in needed) CheckName(n, nameof(needed));
        foreach (var n in notes) { CheckName(n.SectionName, nameof(notes)); CheckName(n.Name, nameof(notes)); }

        var l = new ElfLayout(Class(arch));
        var dynstr = new StringTable();
        var sonameAt = dynstr.Add(soname);
        var neededAt = needed.Select(dynstr.Add).ToArray();

        // Section order: null, .hash, .dynsym, .dynstr, notes..., .dynamic, .shstrtab.
        var shstr = new StringTable();
        uint hashName = shstr.Add(".hash"), dynsymName = shstr.Add(".dynsym"), dynstrName = shstr.Add(".dynstr");
        var noteNames = notes.Select(n => shstr.Add(n.SectionName)).ToArray();
        uint dynamicName = shstr.Add(".dynamic"), shstrName = shstr.Add(".shstrtab");
        int dynsymIndex = 2, dynstrIndex = 3, dynamicIndex = 4 + notes.Count, shnum = 6 + notes.Count;

        var phnum = 3 + notes.Count;
        var hashAt = Align(l.EhdrSize + phnum * l.PhdrSize, 4);
        const int hashSize = 16; // nbucket=1, nchain=1, bucket[0]=0, chain[0]=0: a valid empty hash table
        var dynsymAt = Align(hashAt + hashSize, l.WordAlign);
        var dynstrAt = dynsymAt + l.SymSize;
        var noteAt = new int[notes.Count];
        var end = dynstrAt + dynstr.Length;
        for (var i = 0; i < notes.Count; i++)
        {
            noteAt[i] = Align(end, 4);
            end = noteAt[i] + ElfNoteCodec.EncodedSize(notes[i]);
        }
        var dynamicAt = Align(end, l.WordAlign);
        var dynamicSize = (needed.Count + 7) * l.DynSize;
        var loadEnd = dynamicAt + dynamicSize;
        var shstrAt = loadEnd;
        var shoff = Align(shstrAt + shstr.Length, l.WordAlign);
        var buf = new byte[shoff + shnum * l.ShdrSize];
        var w = new Writer(buf, l);

        // ELF header.
        "\u007fELF"u8.CopyTo(buf);
        buf[4] = l.Is64 ? ClassElf64 : ClassElf32;
        buf[5] = DataLittleEndian;
        buf[6] = 1; // EV_CURRENT; OS ABI 0 = System V, as every Linux library
        w.At(16).Half(TypeDyn).Half(Machine(arch)).Word(1).Addr(0).Addr((ulong)l.EhdrSize).Addr((ulong)shoff).Word(0)
            .Half((ushort)l.EhdrSize).Half((ushort)l.PhdrSize).Half((ushort)phnum)
            .Half((ushort)l.ShdrSize).Half((ushort)shnum).Half((ushort)(shnum - 1));

        // Program headers.
        w.At(l.EhdrSize);
        w.Phdr(PtLoad, PfR | PfW, 0, (ulong)loadEnd, 0x1000);
        w.Phdr(PtDynamic, PfR | PfW, (ulong)dynamicAt, (ulong)dynamicSize, (ulong)l.WordAlign);
        w.Phdr(PtGnuStack, PfR | PfW, 0, 0, 16); // a non-executable stack, so dlopen does not try to change it
        for (var i = 0; i < notes.Count; i++)
            w.Phdr(PtNote, PfR, (ulong)noteAt[i], (ulong)ElfNoteCodec.EncodedSize(notes[i]), 4);

        // Contents. The .dynsym null symbol is all zeros already.
        w.At(hashAt).Word(1).Word(1).Word(0).Word(0);
        dynstr.CopyTo(buf.AsSpan(dynstrAt));
        for (var i = 0; i < notes.Count; i++)
            ElfNoteCodec.Encode(notes[i], buf.AsSpan(noteAt[i]));
        w.At(dynamicAt);
        foreach (var n in neededAt) w.Dyn(DtNeeded, n);
        w.Dyn(DtSoname, sonameAt).Dyn(DtHash, (ulong)hashAt).Dyn(DtStrtab, (ulong)dynstrAt).Dyn(DtSymtab, (ulong)dynsymAt)
            .Dyn(DtStrsz, (ulong)dynstr.Length).Dyn(DtSyment, (ulong)l.SymSize).Dyn(DtNull, 0);
        shstr.CopyTo(buf.AsSpan(shstrAt));

        // Section headers (index 0 stays all zeros).
        w.At(shoff + l.ShdrSize);
        w.Shdr(hashName, ShtHash, ShfAlloc, hashAt, hashSize, (uint)dynsymIndex, 0, 4, 4);
        w.Shdr(dynsymName, ShtDynsym, ShfAlloc, dynsymAt, l.SymSize, (uint)dynstrIndex, 1, l.WordAlign, l.SymSize);
        w.Shdr(dynstrName, ShtStrtab, ShfAlloc, dynstrAt, dynstr.Length, 0, 0, 1, 0);
        for (var i = 0; i < notes.Count; i++)
            w.Shdr(noteNames[i], ShtNote, ShfAlloc, noteAt[i], ElfNoteCodec.EncodedSize(notes[i]), 0, 0, 4, 0);
        w.Shdr(dynamicName, ShtDynamic, ShfAlloc | ShfWrite, dynamicAt, dynamicSize, (uint)dynstrIndex, 0, l.WordAlign, l.DynSize);
        w.Shdr(shstrName, ShtStrtab, 0, shstrAt, shstr.Length, 0, 0, 1, 0, alloc: false);
        return buf;
    }

    static void CheckName(string name, string param)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('\0'))
            throw new ArgumentException($"ELF names must be non-empty and contain no NUL: '{name}'", param);
    }

    static int Align(int n, int a) => (n + a - 1) & ~(a - 1);

    // An ELF string table: starts with the empty string, each name NUL-terminated.
    sealed class StringTable
    {
        readonly List<byte> bytes = [0];
        public int Length => bytes.Count;
        public uint Add(string s)
        {
            var at = (uint)bytes.Count;
            bytes.AddRange(Encoding.UTF8.GetBytes(s));
            bytes.Add(0);
            return at;
        }
        public void CopyTo(Span<byte> dest) => bytes.ToArray().CopyTo(dest);
    }

    // Little-endian cursor that knows which fields are class-sized (4 bytes in ELF32, 8 in ELF64).
    sealed class Writer(byte[] buf, ElfLayout l)
    {
        int pos;
        public Writer At(int p) { pos = p; return this; }
        public Writer Half(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(pos), v); pos += 2; return this; }
        public Writer Word(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(pos), v); pos += 4; return this; }
        public Writer Addr(ulong v)
        {
            if (l.Is64) { BinaryPrimitives.WriteUInt64LittleEndian(buf.AsSpan(pos), v); pos += 8; }
            else Word(checked((uint)v));
            return this;
        }

        // Every allocated piece sits at vaddr == file offset, so offset, vaddr and paddr are the same number.
        public void Phdr(uint type, uint flags, ulong offset, ulong size, ulong align)
        {
            Word(type);
            if (l.Is64) Word(flags).Addr(offset).Addr(offset).Addr(offset).Addr(size).Addr(size).Addr(align);
            else Addr(offset).Addr(offset).Addr(offset).Addr(size).Addr(size).Word(flags).Addr(align);
        }

        public void Shdr(uint name, uint type, ulong flags, int offset, int size, uint link, uint info, int align, int entsize, bool alloc = true) =>
            Word(name).Word(type).Addr(flags).Addr(alloc ? (ulong)offset : 0).Addr((ulong)offset).Addr((ulong)size)
                .Word(link).Word(info).Addr((ulong)align).Addr((ulong)entsize);

        public Writer Dyn(long tag, ulong val) => Addr((ulong)tag).Addr(val);
    }
}

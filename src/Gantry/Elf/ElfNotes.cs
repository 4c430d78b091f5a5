using System.Buffers.Binary;
using System.Text;

namespace Gantry.Elf;

/// <summary>A note to put in its own SHT_NOTE section (e.g. ".note.cuda.fwd_compatibility").</summary>
internal sealed record ElfNote(string SectionName, string Name, uint Type, byte[] Desc)
{
    /// <summary>The GNU ABI tag note that glibc (and libnvidia-container's TLS check) read: OS 0 = Linux, then the kernel ABI.</summary>
    public static ElfNote AbiTag(uint os, uint major, uint minor, uint patch)
    {
        var desc = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(desc, os);
        BinaryPrimitives.WriteUInt32LittleEndian(desc.AsSpan(4), major);
        BinaryPrimitives.WriteUInt32LittleEndian(desc.AsSpan(8), minor);
        BinaryPrimitives.WriteUInt32LittleEndian(desc.AsSpan(12), patch);
        return new ElfNote(ElfConstants.AbiTagSection, ElfConstants.GnuNoteName, ElfConstants.NtGnuAbiTag, desc);
    }
}

/// <summary>The ABI tag of a library: OS (0 = Linux) and the oldest kernel ABI it supports.</summary>
internal sealed record ElfAbiTag(uint Os, uint Major, uint Minor, uint Patch)
{
    public bool IsLinux => Os == 0;
    public bool Matches(uint major, uint minor, uint patch) => IsLinux && Major == major && Minor == minor && Patch == patch;
}

// The note layout: namesz, descsz, type (32-bit words even in ELF64), then the name and the desc,
// each padded to the note alignment (4, or 8 in sections aligned to 8 such as .note.gnu.property).
internal static class ElfNoteCodec
{
    public static int EncodedSize(ElfNote note) =>
        12 + Align4(Encoding.UTF8.GetByteCount(note.Name) + 1) + Align4(note.Desc.Length);

    public static void Encode(ElfNote note, Span<byte> dest)
    {
        var name = Encoding.UTF8.GetBytes(note.Name);
        dest[..EncodedSize(note)].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(dest, (uint)name.Length + 1);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[4..], (uint)note.Desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], note.Type);
        name.CopyTo(dest[12..]);
        note.Desc.CopyTo(dest[(12 + Align4(name.Length + 1))..]);
    }

    /// <summary>Finds the first note called name; throws ElfFormatException when the notes run past the section.</summary>
    public static byte[]? Find(ReadOnlySpan<byte> notes, int align, string name, uint? type = null)
    {
        var wanted = Encoding.UTF8.GetBytes(name);
        var pos = 0;
        while (notes.Length - pos >= 12)
        {
            var namesz = BinaryPrimitives.ReadUInt32LittleEndian(notes[pos..]);
            var descsz = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 4)..]);
            var ntype = BinaryPrimitives.ReadUInt32LittleEndian(notes[(pos + 8)..]);
            var nameStart = (long)pos + 12;
            var descStart = nameStart + AlignUp(namesz, align);
            var next = descStart + AlignUp(descsz, align);
            if (nameStart + namesz > notes.Length || descStart + descsz > notes.Length)
                throw new ElfFormatException($"note at offset {pos} (namesz {namesz}, descsz {descsz}) runs past the end of its section");
            var noteName = notes.Slice((int)nameStart, (int)namesz);
            var nul = noteName.IndexOf((byte)0);
            if (nul >= 0) noteName = noteName[..nul];
            if (noteName.SequenceEqual(wanted) && (type is null || type == ntype))
                return notes.Slice((int)descStart, (int)descsz).ToArray();
            if (next >= notes.Length) break;
            pos = (int)next;
        }
        return null;
    }

    static int Align4(int n) => (n + 3) & ~3;
    static long AlignUp(uint n, int align) => ((long)n + align - 1) & ~(long)(align - 1);
}

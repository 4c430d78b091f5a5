using System.Diagnostics.CodeAnalysis;
using System.Buffers.Binary;
using static Gantry.Elf.ElfConstants;

namespace Gantry.Elf;

internal enum ElfClass { Elf32 = 1, Elf64 = 2 }

/// <summary>The facts Gantry needs from an ELF file's headers.</summary>
internal sealed record ElfInfo(ElfClass Class, ushort Machine, string? Soname, IReadOnlyList<string> Needed);

// Reads only what discovery and the hooks need: class, machine, SONAME, DT_NEEDED and named notes.
// Expected failures (missing file, not ELF, malformed) come back as false with a one-line error naming the path.
internal static class ElfReader
{
    public static bool TryRead(string path, [NotNullWhen(true)] out ElfInfo? info, [NotNullWhen(false)] out string? error) =>
        Run(path, () => ElfSource.Open(path), ReadInfo, out info, out error);

    /// <summary>Like TryRead, for bytes already in memory (tests, and files read some other way).</summary>
    public static bool TryParse(byte[] data, [NotNullWhen(true)] out ElfInfo? info, [NotNullWhen(false)] out string? error) =>
        Run("<memory>", () => ElfSource.FromBytes(data), ReadInfo, out info, out error);

    /// <summary>Returns the description bytes of the first SHT_NOTE section called sectionName whose note name is noteName.</summary>
    public static bool TryReadNoteSection(string path, string sectionName, string noteName, [NotNullWhen(true)] out byte[]? desc) =>
        TryReadNoteSection(path, sectionName, noteName, out desc, out _);

    /// <summary>As above; error is null when the file is fine but has no such note, and says why when the file could not be read.</summary>
    public static bool TryReadNoteSection(string path, string sectionName, string noteName,
        [NotNullWhen(true)] out byte[]? desc, out string? error)
    {
        byte[]? found = null;
        var ok = Run(path, () => ElfSource.Open(path), elf => found = FindNote(elf, sectionName, noteName, null), out _, out error);
        desc = found;
        return ok && found is not null;
    }

    /// <summary>Reads the GNU ABI tag (<c>.note.ABI-tag</c>); false when absent or unreadable.</summary>
    public static bool TryReadAbiTag(string path, [NotNullWhen(true)] out ElfAbiTag? tag)
    {
        tag = null;
        if (!Run(path, () => ElfSource.Open(path), elf => FindNote(elf, AbiTagSection, GnuNoteName, NtGnuAbiTag), out var desc, out _)
            || desc is not { Length: >= 16 })
            return false;
        tag = new ElfAbiTag(BinaryPrimitives.ReadUInt32LittleEndian(desc), BinaryPrimitives.ReadUInt32LittleEndian(desc.AsSpan(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(desc.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(desc.AsSpan(12)));
        return true;
    }

    static ElfInfo ReadInfo(ElfFile elf)
    {
        var (soname, needed) = ElfDynamic.Read(elf);
        return new ElfInfo(elf.Class, elf.Machine, soname, needed);
    }

    static byte[]? FindNote(ElfFile elf, string sectionName, string noteName, uint? type)
    {
        foreach (var s in elf.Sections)
        {
            if (s.Type != ShtNote || s.Name != sectionName) continue;
            var desc = ElfNoteCodec.Find(elf.ReadSection(s), s.AddrAlign == 8 ? 8 : 4, noteName, type);
            if (desc is not null) return desc;
        }
        return null;
    }

    static bool Run<T>(string path, Func<ElfSource> open, Func<ElfFile, T> read, out T? result, out string? error)
    {
        result = default;
        try
        {
            using var src = open();
            result = read(ElfFile.Open(src));
            error = null;
            return true;
        }
        catch (ElfFormatException e) { error = $"{path}: invalid ELF file: {e.Message}"; }
        catch (FileNotFoundException) { error = $"{path}: no such file"; }
        catch (DirectoryNotFoundException) { error = $"{path}: no such file"; }
        catch (UnauthorizedAccessException e) { error = $"{path}: cannot open: {e.Message}"; }
        catch (IOException e) { error = $"{path}: cannot read: {e.Message}"; }
        return false;
    }
}

namespace Gantry.Elf;

internal enum ElfClass { Elf32 = 1, Elf64 = 2 }

/// <summary>The facts Gantry needs from an ELF file's headers.</summary>
internal sealed record ElfInfo(ElfClass Class, ushort Machine, string? Soname, IReadOnlyList<string> Needed);

// Stub, filled in by the ELF work: reads only what discovery and the hooks need.
internal static class ElfReader
{
    public static bool TryRead(string path, out ElfInfo? info, out string? error) => throw new NotImplementedException();

    /// <summary>Returns the description bytes of the first SHT_NOTE section called sectionName whose note name is noteName.</summary>
    public static bool TryReadNoteSection(string path, string sectionName, string noteName, out byte[]? desc) => throw new NotImplementedException();
}

namespace Gantry.Elf;

internal enum ElfArch { X86_64, I386, Aarch64 }

/// <summary>A note to put in its own SHT_NOTE section (e.g. ".note.cuda.fwd_compatibility").</summary>
internal sealed record ElfNote(string SectionName, string Name, uint Type, byte[] Desc);

// Stub, filled in by the ELF work: writes small but valid shared objects (SONAME, DT_NEEDED, notes)
// that ldconfig indexes and ElfReader reads back, so the simulated host needs no compiler.
internal static class ElfWriter
{
    public static byte[] SharedObject(ElfArch arch, string soname, IReadOnlyList<string>? needed = null, IReadOnlyList<ElfNote>? notes = null)
        => throw new NotImplementedException();
}

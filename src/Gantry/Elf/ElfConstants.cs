namespace Gantry.Elf;

// The few numbers from the ELF gABI (and the Linux ABI) that Gantry reads or writes.
internal static class ElfConstants
{
    public const byte ClassElf32 = 1;
    public const byte ClassElf64 = 2;
    public const byte DataLittleEndian = 1;
    public const ushort TypeDyn = 3;

    public const ushort MachineI386 = 3;
    public const ushort MachineX86_64 = 62;
    public const ushort MachineAarch64 = 183;

    public const uint PtLoad = 1;
    public const uint PtDynamic = 2;
    public const uint PtNote = 4;
    public const uint PtGnuStack = 0x6474e551;
    public const uint PfW = 2;
    public const uint PfR = 4;

    public const uint ShtStrtab = 3;
    public const uint ShtHash = 5;
    public const uint ShtDynamic = 6;
    public const uint ShtNote = 7;
    public const uint ShtDynsym = 11;
    public const ulong ShfWrite = 1;
    public const ulong ShfAlloc = 2;
    public const ushort ShnXindex = 0xffff;
    public const ushort PnXnum = 0xffff;

    public const long DtNull = 0;
    public const long DtNeeded = 1;
    public const long DtHash = 4;
    public const long DtStrtab = 5;
    public const long DtSymtab = 6;
    public const long DtStrsz = 10;
    public const long DtSyment = 11;
    public const long DtSoname = 14;

    public const uint NtGnuAbiTag = 1;
    public const string AbiTagSection = ".note.ABI-tag";
    public const string GnuNoteName = "GNU";

    public static ushort Machine(ElfArch arch) => arch switch
    {
        ElfArch.X86_64 => MachineX86_64,
        ElfArch.I386 => MachineI386,
        ElfArch.Aarch64 => MachineAarch64,
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "unknown ELF architecture"),
    };

    public static ElfClass Class(ElfArch arch) => arch == ElfArch.I386 ? ElfClass.Elf32 : ElfClass.Elf64;
}

/// <summary>Sizes of the structures that differ between ELF32 and ELF64.</summary>
internal readonly record struct ElfLayout(ElfClass Class)
{
    public bool Is64 => Class == ElfClass.Elf64;
    public int EhdrSize => Is64 ? 64 : 52;
    public int PhdrSize => Is64 ? 56 : 32;
    public int ShdrSize => Is64 ? 64 : 40;
    public int DynSize => Is64 ? 16 : 8;
    public int SymSize => Is64 ? 24 : 16;
    public int WordAlign => Is64 ? 8 : 4;
}

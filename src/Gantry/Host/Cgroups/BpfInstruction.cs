using System.Buffers.Binary;

namespace Gantry.Host.Cgroups;

/// <summary>One eBPF instruction (struct bpf_insn): opcode, destination and source registers, a signed 16-bit
/// offset (jumps are relative to the next instruction) and a signed 32-bit immediate. Eight bytes, little-endian,
/// dst in the low nibble of the register byte.</summary>
internal readonly record struct BpfInstruction(byte Code, byte Dst, byte Src, short Offset, int Immediate)
{
    public const int Size = 8;

    // Opcodes: class | operation | source (K = immediate, X = register). Only what device filters need.
    public const byte LoadWord = 0x61;        // BPF_LDX | BPF_MEM | BPF_W
    public const byte And32Imm = 0x54;        // BPF_ALU | BPF_AND | BPF_K
    public const byte Rsh32Imm = 0x74;        // BPF_ALU | BPF_RSH | BPF_K
    public const byte Mov32Reg = 0xbc;        // BPF_ALU | BPF_MOV | BPF_X
    public const byte Mov64Imm = 0xb7;        // BPF_ALU64 | BPF_MOV | BPF_K
    public const byte JneImm = 0x55;          // BPF_JMP | BPF_JNE | BPF_K
    public const byte JneReg = 0x5d;          // BPF_JMP | BPF_JNE | BPF_X
    public const byte Call = 0x85;            // BPF_JMP | BPF_CALL
    public const byte Exit = 0x95;            // BPF_JMP | BPF_EXIT
    public const byte LoadImm64 = 0x18;       // BPF_LD | BPF_IMM | BPF_DW (two slots)

    public static BpfInstruction LoadMemWord(byte dst, byte src, short offset) => new(LoadWord, dst, src, offset, 0);
    public static BpfInstruction AndImm32(byte dst, int imm) => new(And32Imm, dst, 0, 0, imm);
    public static BpfInstruction RshImm32(byte dst, int imm) => new(Rsh32Imm, dst, 0, 0, imm);
    public static BpfInstruction MovReg32(byte dst, byte src) => new(Mov32Reg, dst, src, 0, 0);
    public static BpfInstruction MovImm64(byte dst, int imm) => new(Mov64Imm, dst, 0, 0, imm);
    public static BpfInstruction JumpIfNotEqual(byte dst, int imm, short skip) => new(JneImm, dst, 0, skip, imm);
    public static BpfInstruction JumpIfNotEqualReg(byte dst, byte src, short skip) => new(JneReg, dst, src, skip, 0);
    public static BpfInstruction Return() => new(Exit, 0, 0, 0, 0);

    public void WriteTo(Span<byte> into)
    {
        into[0] = Code;
        into[1] = (byte)((Src << 4) | (Dst & 0x0f));
        BinaryPrimitives.WriteInt16LittleEndian(into[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(into[4..], Immediate);
    }

    public static BpfInstruction ReadFrom(ReadOnlySpan<byte> from) => new(from[0], (byte)(from[1] & 0x0f), (byte)(from[1] >> 4),
        BinaryPrimitives.ReadInt16LittleEndian(from[2..]), BinaryPrimitives.ReadInt32LittleEndian(from[4..]));

    public static byte[] Encode(IReadOnlyList<BpfInstruction> program)
    {
        var bytes = new byte[program.Count * Size];
        for (var i = 0; i < program.Count; i++) program[i].WriteTo(bytes.AsSpan(i * Size));
        return bytes;
    }

    public static BpfInstruction[] Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % Size != 0) throw new ArgumentException($"{bytes.Length} bytes is not a whole number of eBPF instructions");
        var program = new BpfInstruction[bytes.Length / Size];
        for (var i = 0; i < program.Length; i++) program[i] = ReadFrom(bytes.Slice(i * Size, Size));
        return program;
    }

    public override string ToString() => $"{Code:x2} r{Dst} r{Src} {Offset:+0;-0;0} {Immediate}";
}

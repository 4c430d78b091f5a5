using Gantry.Host.Cgroups;

namespace Gantry.Tests.Host.Cgroups;

// The eBPF encoding, byte for byte (struct bpf_insn: opcode, dst | src << 4, off16, imm32, little-endian), and
// the shape of the device filters built from it.
public sealed class DeviceFilterProgramTests
{
    const string Prologue =
        "6112000000000000" + // r2 = *(u32 *)(r1 + 0)
        "54020000ffff0000" + // w2 &= 0xffff            device type
        "6113000000000000" + // r3 = *(u32 *)(r1 + 0)
        "7403000010000000" + // w3 >>= 16               access bits
        "6114040000000000" + // r4 = *(u32 *)(r1 + 4)   major
        "6115080000000000";  // r5 = *(u32 *)(r1 + 8)   minor

    static string Hex(IReadOnlyList<BpfInstruction> program) => Convert.ToHexStringLower(BpfInstruction.Encode(program));

    [Fact]
    public void An_engine_style_filter_allows_the_listed_device_and_denies_the_rest() =>
        Assert.Equal(Prologue +
            "5502040002000000" + // if r2 != 2 (char) goto +4
            "5504030001000000" + // if r4 != 1 goto +3
            "5505020003000000" + // if r5 != 3 goto +2
            "b700000001000000" + // r0 = 1
            "9500000000000000" + // exit
            "b700000000000000" + // r0 = 0
            "9500000000000000",  // exit
            Hex(DeviceFilterProgram.AllowOnly([new('c', 1, 3, "rwm")])));

    [Fact]
    public void Prepending_puts_our_blocks_before_the_old_program_which_is_copied_unchanged()
    {
        BpfInstruction[] old = [BpfInstruction.MovImm64(0, 0), BpfInstruction.Return()];
        Assert.Equal(Prologue +
            "5502070002000000" + // if r2 != 2 goto +7
            "bc36000000000000" + // w6 = w3
            "5406000006000000" + // w6 &= r|w
            "5d36040000000000" + // if r6 != r3 goto +4  (an access bit outside the rule)
            "55040300c3000000" + // if r4 != 195 goto +3
            "5505020001000000" + // if r5 != 1 goto +2
            "b700000001000000" + // r0 = 1
            "9500000000000000" + // exit
            "b700000000000000" + "9500000000000000",
            Hex(DeviceFilterProgram.Prepend([new('c', 195, 1, "rw")], old)));
    }

    [Fact]
    public void Any_major_or_minor_drops_that_check_and_block_devices_have_type_1() =>
        Assert.Equal(Prologue +
            "5502030001000000" + // if r2 != 1 (block) goto +3
            "5504020008000000" + // if r4 != 8 goto +2
            "b700000001000000" + "9500000000000000" + "9500000000000000",
            Hex(DeviceFilterProgram.Prepend([new('b', 8, DeviceRule.Any, "rwm")], [BpfInstruction.Return()])));

    [Fact]
    public void Decoding_gives_back_what_was_encoded()
    {
        var program = DeviceFilterProgram.Prepend([new('c', 195, DeviceRule.Any, "m"), new('c', 1, 5, "r")], DeviceFilterProgram.AllowOnly([new('c', 1, 3, "rw")]));
        Assert.Equal(program, BpfInstruction.Decode(BpfInstruction.Encode(program)));
        Assert.Throws<ArgumentException>(() => BpfInstruction.Decode(new byte[12]));
    }

    [Fact]
    public void Negative_offsets_and_immediates_round_trip()
    {
        var insn = new BpfInstruction(0x05, 0, 0, -1, -2);
        Assert.Equal("0500ffff feffffff".Replace(" ", ""), Hex([insn]));
        Assert.Equal(insn, BpfInstruction.Decode(BpfInstruction.Encode([insn]))[0]);
    }

    [Fact]
    public void Programs_that_call_helpers_or_use_maps_cannot_be_reloaded()
    {
        Assert.Null(DeviceFilterProgram.WhyNotReloadable(DeviceFilterProgram.AllowOnly([new('c', 1, 3, "rw")])));
        Assert.Equal("it calls helpers or functions", DeviceFilterProgram.WhyNotReloadable([new(0x85, 0, 0, 0, 14), BpfInstruction.Return()]));
        Assert.Equal("it refers to maps or other kernel objects",
            DeviceFilterProgram.WhyNotReloadable([new(0x18, 1, 1, 0, 7), new(0, 0, 0, 0, 0), BpfInstruction.Return()]));
        Assert.Equal("it has no instructions", DeviceFilterProgram.WhyNotReloadable([]));
    }
}

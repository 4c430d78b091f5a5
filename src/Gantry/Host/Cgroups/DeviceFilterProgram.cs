namespace Gantry.Host.Cgroups;

/// <summary>
/// Builds BPF_PROG_TYPE_CGROUP_DEVICE programs. The kernel passes struct bpf_cgroup_dev_ctx in R1:
/// access_type (access bits &lt;&lt; 16 | device type), major, minor; returning 1 allows the access, 0 denies it.
/// The prologue loads type, access, major and minor into R2..R5 and leaves R1 alone, so an existing program can
/// follow our blocks unchanged: its jumps are relative and it starts by reading R1 itself.
/// </summary>
internal static class DeviceFilterProgram
{
    const byte Result = 0, Context = 1, Type = 2, Access = 3, Major = 4, Minor = 5, Scratch = 6;
    const int DeviceBlock = 1, DeviceChar = 2;          // BPF_DEVCG_DEV_*
    const int AccessMknod = 1, AccessRead = 2, AccessWrite = 4; // BPF_DEVCG_ACC_*

    public static List<BpfInstruction> Prologue() =>
    [
        BpfInstruction.LoadMemWord(Type, Context, 0),
        BpfInstruction.AndImm32(Type, 0xffff),
        BpfInstruction.LoadMemWord(Access, Context, 0),
        BpfInstruction.RshImm32(Access, 16),
        BpfInstruction.LoadMemWord(Major, Context, 4),
        BpfInstruction.LoadMemWord(Minor, Context, 8),
    ];

    /// <summary>"If the access matches the rule, return allow/deny; else fall through to what follows."</summary>
    public static List<BpfInstruction> Block(DeviceRule rule, bool allow)
    {
        // Each check jumps past the rest of the block; the offsets are filled in once the length is known.
        var checks = new List<(byte Register, int Value, bool IsAccess)>
        {
            (Type, rule.Type == 'b' ? DeviceBlock : DeviceChar, false),
        };
        var mask = AccessMask(rule.Access);
        if (mask != (AccessMknod | AccessRead | AccessWrite)) checks.Add((Access, mask, true));
        if (rule.Major != DeviceRule.Any) checks.Add((Major, checked((int)rule.Major), false));
        if (rule.Minor != DeviceRule.Any) checks.Add((Minor, checked((int)rule.Minor), false));

        var block = new List<BpfInstruction>();
        foreach (var (register, value, isAccess) in checks)
        {
            if (isAccess)
            {
                // Every requested access bit must be in the rule: (access & mask) == access.
                block.Add(BpfInstruction.MovReg32(Scratch, Access));
                block.Add(BpfInstruction.AndImm32(Scratch, value));
                block.Add(BpfInstruction.JumpIfNotEqualReg(Scratch, Access, 0));
            }
            else block.Add(BpfInstruction.JumpIfNotEqual(register, value, 0));
        }
        block.Add(BpfInstruction.MovImm64(Result, allow ? 1 : 0));
        block.Add(BpfInstruction.Return());
        for (var i = 0; i < block.Count; i++)
            if (block[i].Code is BpfInstruction.JneImm or BpfInstruction.JneReg)
                block[i] = block[i] with { Offset = (short)(block.Count - i - 1) };
        return block;
    }

    /// <summary>What an engine attaches (runc's shape): allow the listed devices, deny everything else.</summary>
    public static BpfInstruction[] AllowOnly(IReadOnlyList<DeviceRule> allowed)
    {
        var program = Prologue();
        foreach (var rule in allowed) program.AddRange(Block(rule, allow: true));
        program.Add(BpfInstruction.MovImm64(Result, 0));
        program.Add(BpfInstruction.Return());
        return [.. program];
    }

    /// <summary>Our allow blocks, then the existing program's logic for every other access.</summary>
    public static BpfInstruction[] Prepend(IReadOnlyList<DeviceRule> rules, IReadOnlyList<BpfInstruction> existing)
    {
        var program = Prologue();
        foreach (var rule in rules) program.AddRange(Block(rule, allow: true));
        program.AddRange(existing);
        return [.. program];
    }

    /// <summary>Why an attached program cannot be loaded again from its translated instructions, or null. Helper
    /// calls and map references are rewritten to kernel addresses in that form, so reloading them would not work.</summary>
    public static string? WhyNotReloadable(IReadOnlyList<BpfInstruction> existing)
    {
        if (existing.Count == 0) return "it has no instructions";
        foreach (var insn in existing)
        {
            if ((insn.Code & 0x07) == 0x05 && (insn.Code & 0xf0) == 0x80) return "it calls helpers or functions";
            if (insn.Code == BpfInstruction.LoadImm64 && insn.Src != 0) return "it refers to maps or other kernel objects";
        }
        return null;
    }

    static int AccessMask(string access) =>
        (access.Contains('m') ? AccessMknod : 0) | (access.Contains('r') ? AccessRead : 0) | (access.Contains('w') ? AccessWrite : 0);
}

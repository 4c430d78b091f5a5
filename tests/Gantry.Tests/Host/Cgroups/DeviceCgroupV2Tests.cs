using Gantry.Host;
using Gantry.Host.Cgroups;

namespace Gantry.Tests.Host.Cgroups;

// The v2 applier against a recording fake of bpf(2): which program replaces which, with which flags, what the
// new program holds, and the errors for what cannot be done.
public sealed class DeviceCgroupV2Tests
{
    const int CgroupFd = 3;
    static readonly BpfInstruction[] EngineProgram = DeviceFilterProgram.AllowOnly([new('c', 1, 3, "rwm")]);
    static readonly DeviceRule[] Gpu1 = [new('c', 195, 1, "rw")];

    sealed class FakeBpf : IBpf
    {
        public List<uint> Ids = [];
        public uint Flags = BpfFlags.AllowMulti;
        public Dictionary<uint, BpfInstruction[]> Programs = [];
        public int GetFdResult, LoadResult = 200, ReplaceResult;
        public List<string> Calls = [];
        public List<BpfInstruction[]> Loaded = [];
        public List<int> Closed = [];

        public int QueryDevicePrograms(int cgroupFd, out AttachedPrograms attached)
        {
            attached = new AttachedPrograms(Ids, Flags);
            return 0;
        }

        public int ProgramFdById(uint id) => GetFdResult < 0 ? GetFdResult : 100 + (int)id;

        public int TranslatedInstructions(int programFd, out BpfInstruction[] program)
        {
            program = Programs[(uint)(programFd - 100)];
            return 0;
        }

        public int LoadDeviceProgram(IReadOnlyList<BpfInstruction> program, out string verifierLog)
        {
            Loaded.Add([.. program]);
            verifierLog = LoadResult < 0 ? "0: (61) r2 = *(u32 *)(r1 +0)\nR0 !read_ok\nprocessed 9 insns" : "";
            return LoadResult < 0 ? LoadResult : LoadResult + Loaded.Count - 1;
        }

        public int Attach(int cgroupFd, int programFd, uint flags, int replaceFd)
        {
            Calls.Add($"attach {programFd} flags {flags} replace {replaceFd}");
            return (flags & BpfFlags.Replace) != 0 ? ReplaceResult : 0;
        }

        public int Detach(int cgroupFd, int programFd)
        {
            Calls.Add($"detach {programFd}");
            return 0;
        }

        public int Close(int fd)
        {
            Closed.Add(fd);
            return 0;
        }
    }

    static FakeBpf WithEngineProgram(uint id = 7)
    {
        var bpf = new FakeBpf();
        bpf.Ids.Add(id);
        bpf.Programs[id] = EngineProgram;
        return bpf;
    }

    [Fact]
    public void The_engines_program_is_replaced_in_one_step_by_ours_followed_by_its_instructions()
    {
        var bpf = WithEngineProgram();
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Equal(["attach 200 flags 6 replace 107"], bpf.Calls);
        Assert.Equal(DeviceFilterProgram.Prepend(Gpu1, EngineProgram), Assert.Single(bpf.Loaded));
        Assert.Equal([200, 107], bpf.Closed);
    }

    [Fact]
    public void Every_attached_program_is_extended_since_each_one_can_deny()
    {
        var bpf = WithEngineProgram(7);
        bpf.Ids.Add(9);
        bpf.Programs[9] = [BpfInstruction.MovImm64(0, 1), BpfInstruction.Return()];
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Equal(["attach 200 flags 6 replace 107", "attach 201 flags 6 replace 109"], bpf.Calls);
    }

    [Fact]
    public void Without_BPF_F_REPLACE_the_new_program_is_attached_before_the_old_one_is_detached()
    {
        var bpf = WithEngineProgram();
        bpf.ReplaceResult = -Errno.EINVAL;
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Equal(["attach 200 flags 6 replace 107", "attach 200 flags 2 replace -1", "detach 107"], bpf.Calls);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(BpfFlags.AllowOverride)]
    public void A_single_program_cgroup_gets_the_new_program_with_the_same_flags(uint flags)
    {
        var bpf = WithEngineProgram();
        bpf.Flags = flags;
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Equal([$"attach 200 flags {flags} replace -1"], bpf.Calls);
    }

    [Fact]
    public void A_cgroup_without_a_device_program_restricts_nothing_so_nothing_is_loaded()
    {
        var bpf = new FakeBpf();
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Empty(bpf.Loaded);
        Assert.Empty(bpf.Calls);
    }

    [Fact]
    public void A_program_hidden_by_a_security_module_is_left_alone()
    {
        var bpf = WithEngineProgram();
        bpf.GetFdResult = -Errno.EPERM;
        DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1);
        Assert.Empty(bpf.Calls);
    }

    [Fact]
    public void A_refused_program_reports_the_end_of_the_verifier_log()
    {
        var bpf = WithEngineProgram();
        bpf.LoadResult = -Errno.EACCES;
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1));
        Assert.Equal("the kernel refused the extended device program for /cg: Permission denied; verifier: " +
            "0: (61) r2 = *(u32 *)(r1 +0) | R0 !read_ok | processed 9 insns", e.Message);
        Assert.Empty(bpf.Calls);
        Assert.Equal([107], bpf.Closed);
    }

    [Fact]
    public void A_program_that_calls_helpers_is_not_reloaded()
    {
        var bpf = WithEngineProgram();
        bpf.Programs[7] = [new(0x85, 0, 0, 0, 14), BpfInstruction.Return()];
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1));
        Assert.Equal("cannot extend device program 7 of /cg: it calls helpers or functions", e.Message);
        Assert.Empty(bpf.Loaded);
    }

    [Fact]
    public void A_program_attached_through_a_link_is_named_as_such()
    {
        var bpf = WithEngineProgram();
        bpf.ReplaceResult = -Errno.ENOENT;
        var e = Assert.Throws<DeviceCgroupException>(() => DeviceCgroupV2.Allow(bpf, CgroupFd, "/cg", Gpu1));
        Assert.Contains("not attached directly (a BPF link?)", e.Message);
        Assert.Equal([200, 107], bpf.Closed);
    }
}

namespace Gantry.Host.Cgroups;

/// <summary>The device programs attached to one cgroup: their ids and the attach flags of that cgroup.</summary>
internal sealed record AttachedPrograms(IReadOnlyList<uint> Ids, uint AttachFlags);

/// <summary>
/// The bpf(2) calls the device cgroup v2 applier makes, for BPF_CGROUP_DEVICE only. Results follow the kernel
/// convention of <see cref="ISyscalls"/>: a value &gt;= 0 (often an fd) on success, -errno on failure.
/// </summary>
internal interface IBpf
{
    int QueryDevicePrograms(int cgroupFd, out AttachedPrograms attached);
    int ProgramFdById(uint id);
    int TranslatedInstructions(int programFd, out BpfInstruction[] program);
    /// <summary>Loads a device program; on failure <paramref name="verifierLog"/> holds what the verifier said.</summary>
    int LoadDeviceProgram(IReadOnlyList<BpfInstruction> program, out string verifierLog);
    int Attach(int cgroupFd, int programFd, uint flags, int replaceFd);
    int Detach(int cgroupFd, int programFd);
    int Close(int fd);
}

internal static class BpfFlags
{
    public const uint AllowOverride = 1, AllowMulti = 2, Replace = 4;
}

using System.Runtime.InteropServices;

namespace Gantry.LdconfigSandbox;

// The seccomp allow-list the host ldconfig runs under (libnvidia-container's list, plus what a static glibc of
// today calls at start-up: rseq, set_robust_list, prlimit64, getrandom, futex, statx). Anything else fails with
// EPERM; a foreign architecture (x32, i386 calls from a 64-bit process) is killed. Classic BPF, one instruction
// per 64-bit word: code (16 bits), jt, jf (8 bits each), k (32 bits).
internal static class LdconfigSyscallFilter
{
    const ushort LdW = 0x20, JeqK = 0x15, JgeK = 0x35, Ret = 0x06;
    const uint AuditArchX8664 = 0xc000003e, X32Bit = 0x40000000;
    const uint Allow = 0x7fff0000, KillProcess = 0x80000000, ErrnoEperm = 0x00050000 | 1;

    // x86-64 numbers (asm/unistd_64.h).
    static readonly uint[] AllowedX8664 =
    [
        0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 17, 19, 20, 21, 25, 39, 59, 60, 63, 72, 74, 75, 77, 78, 79, 80, 82, 83,
        87, 88, 89, 90, 96, 102, 104, 107, 108, 111, 158, 186, 201, 202, 217, 218, 228, 231, 234, 257, 258, 262, 263, 264, 266,
        267, 273, 302, 318, 322, 332, 334,
    ];

    /// <summary>The filter for this architecture; null where Gantry has no syscall table for it (no filter then).</summary>
    public static ulong[]? Build(Architecture arch)
    {
        if (arch != Architecture.X64) return null;
        var p = new List<ulong>
        {
            Op(LdW, 0, 0, 4),                       // A = seccomp_data.arch
            Op(JeqK, 1, 0, AuditArchX8664),
            Op(Ret, 0, 0, KillProcess),
            Op(LdW, 0, 0, 0),                       // A = seccomp_data.nr
            Op(JgeK, 0, 1, X32Bit),                 // x32 calls carry bit 30
            Op(Ret, 0, 0, ErrnoEperm),
        };
        foreach (var nr in AllowedX8664)
        {
            p.Add(Op(JeqK, 0, 1, nr));
            p.Add(Op(Ret, 0, 0, Allow));
        }
        p.Add(Op(Ret, 0, 0, ErrnoEperm));
        return [.. p];
    }

    /// <summary>The program as gantry-sandbox-exec takes it: 16 hex digits per instruction.</summary>
    public static string Hex(ulong[] program) => string.Concat(program.Select(i => i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture)));

    static ulong Op(ushort code, byte jt, byte jf, uint k) => code | ((ulong)jt << 16) | ((ulong)jf << 24) | ((ulong)k << 32);
}

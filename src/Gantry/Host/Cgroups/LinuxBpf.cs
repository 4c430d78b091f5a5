using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Gantry.Host.Cgroups;

/// <summary>bpf(2) through syscall(2), with union bpf_attr written by field offset (uapi/linux/bpf.h). Fields the
/// code does not set stay zero, which the kernel requires.</summary>
internal sealed class LinuxBpf : IBpf
{
    public static LinuxBpf Instance { get; } = new();

    const int ProgLoad = 5, ProgAttach = 8, ProgDetach = 9, ProgGetFdById = 13, ObjGetInfoByFd = 15, ProgQuery = 16;
    const int ProgTypeCgroupDevice = 15, AttachCgroupDevice = 6;
    const int AttrSize = 144, ProgInfoSize = 256;
    const int ENOSPC = 28;
    static readonly byte[] License = "Apache\0"u8.ToArray(); // device programs need no GPL-only helpers
    static readonly byte[] Name = "gantry_devices\0"u8.ToArray();

    static unsafe int Bpf(int command, Span<byte> attr)
    {
        fixed (byte* p = attr)
        {
            var r = Interop.Syscall3(Interop.SysBpf, command, p, (nuint)attr.Length);
            return r >= 0 ? checked((int)r) : -Marshal.GetLastPInvokeError();
        }
    }

    static unsafe ulong Address(byte* p) => (ulong)p;

    public int QueryDevicePrograms(int cgroupFd, out AttachedPrograms attached)
    {
        attached = new AttachedPrograms([], 0);
        for (var capacity = 64; ; capacity *= 2)
        {
            var ids = new uint[capacity];
            var r = Query(cgroupFd, ids, out var count, out var flags);
            // ENOSPC: more programs than room; the kernel wrote the real count, so ask again with more.
            if (r == -ENOSPC && capacity < 4096) continue;
            if (r < 0) return r;
            attached = new AttachedPrograms(ids[..(int)Math.Min(count, (uint)capacity)], flags);
            return 0;
        }
    }

    static unsafe int Query(int cgroupFd, uint[] ids, out uint count, out uint flags)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        int r;
        fixed (uint* p = ids)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)cgroupFd);
            BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], AttachCgroupDevice);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], Address((byte*)p));
            BinaryPrimitives.WriteUInt32LittleEndian(attr[24..], (uint)ids.Length);
            r = Bpf(ProgQuery, attr);
        }
        flags = BinaryPrimitives.ReadUInt32LittleEndian(attr[12..]);
        count = BinaryPrimitives.ReadUInt32LittleEndian(attr[24..]);
        return r;
    }

    public int ProgramFdById(uint id)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(attr, id);
        return Bpf(ProgGetFdById, attr);
    }

    public unsafe int TranslatedInstructions(int programFd, out BpfInstruction[] program)
    {
        program = [];
        var info = new byte[ProgInfoSize];
        var r = ProgramInfo(programFd, info);
        if (r < 0) return r;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(20)); // xlated_prog_len
        if (length == 0) return -Errno.EPERM; // the kernel hides instructions from callers without CAP_BPF/SYS_ADMIN
        var bytes = new byte[length];
        Array.Clear(info);
        fixed (byte* p = bytes)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(info.AsSpan(20), length);
            BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(32), Address(p)); // xlated_prog_insns
            r = ProgramInfo(programFd, info);
        }
        if (r < 0) return r;
        program = BpfInstruction.Decode(bytes.AsSpan(0, (int)Math.Min(length, BinaryPrimitives.ReadUInt32LittleEndian(info.AsSpan(20)))));
        return 0;
    }

    static unsafe int ProgramInfo(int programFd, byte[] info)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        fixed (byte* p = info)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)programFd);
            BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], (uint)info.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[8..], Address(p));
            return Bpf(ObjGetInfoByFd, attr);
        }
    }

    public int LoadDeviceProgram(IReadOnlyList<BpfInstruction> program, out string verifierLog)
    {
        verifierLog = "";
        var code = BpfInstruction.Encode(program);
        var r = Load(code, program.Count, null);
        if (r == -Errno.EPERM && RaiseMemlockLimit()) r = Load(code, program.Count, null); // kernels before 5.11 charge memlock
        if (r >= 0) return r;
        // Load again with the verifier's log on, only to explain the failure.
        var log = new byte[256 * 1024];
        Load(code, program.Count, log);
        var end = Array.IndexOf(log, (byte)0);
        verifierLog = Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).Trim();
        return r;
    }

    static unsafe int Load(byte[] code, int count, byte[]? log)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        fixed (byte* insns = code) fixed (byte* license = License) fixed (byte* buffer = log)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(attr, ProgTypeCgroupDevice);
            BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], (uint)count);
            BinaryPrimitives.WriteUInt64LittleEndian(attr[8..], Address(insns));
            BinaryPrimitives.WriteUInt64LittleEndian(attr[16..], Address(license));
            if (log is not null)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(attr[24..], 1); // log_level
                BinaryPrimitives.WriteUInt32LittleEndian(attr[28..], (uint)log.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(attr[32..], Address(buffer));
            }
            Name.CopyTo(attr[48..64]);
            return Bpf(ProgLoad, attr);
        }
    }

    static bool RaiseMemlockLimit() =>
        Interop.SetRLimit(Interop.RLimitMemlock, new Interop.RLimit { Current = ulong.MaxValue, Maximum = ulong.MaxValue }) == 0;

    public int Attach(int cgroupFd, int programFd, uint flags, int replaceFd)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)cgroupFd);
        BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], (uint)programFd);
        BinaryPrimitives.WriteUInt32LittleEndian(attr[8..], AttachCgroupDevice);
        BinaryPrimitives.WriteUInt32LittleEndian(attr[12..], flags);
        if ((flags & BpfFlags.Replace) != 0) BinaryPrimitives.WriteUInt32LittleEndian(attr[16..], (uint)replaceFd);
        return Bpf(ProgAttach, attr);
    }

    public int Detach(int cgroupFd, int programFd)
    {
        Span<byte> attr = stackalloc byte[AttrSize];
        attr.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(attr, (uint)cgroupFd);
        BinaryPrimitives.WriteUInt32LittleEndian(attr[4..], (uint)programFd);
        BinaryPrimitives.WriteUInt32LittleEndian(attr[8..], AttachCgroupDevice);
        return Bpf(ProgDetach, attr);
    }

    public int Close(int fd) => Interop.Close(fd) == 0 ? 0 : -Marshal.GetLastPInvokeError();
}

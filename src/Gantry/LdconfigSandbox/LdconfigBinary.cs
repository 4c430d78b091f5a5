using System.Buffers.Binary;

namespace Gantry.LdconfigSandbox;

/// <summary>Finding the host ldconfig and checking it is safe to run inside a container root.</summary>
internal static class LdconfigBinary
{
    /// <summary>
    /// The original's normalisation: a trailing ".real" is dropped, then "&lt;path&gt;.real" is preferred when it
    /// exists (Debian/Ubuntu wrap ldconfig in a script). Null when neither exists.
    /// </summary>
    public static string? Resolve(string path)
    {
        var basePath = path.EndsWith(".real", StringComparison.Ordinal) ? path[..^".real".Length] : path;
        if (File.Exists(basePath + ".real")) return basePath + ".real";
        return File.Exists(basePath) ? basePath : null;
    }

    /// <summary>
    /// True for an ELF executable with no PT_INTERP. Inside the container root a dynamic ldconfig would load the
    /// image's ld.so as root, and a script the image's shell, so only static binaries are run there.
    /// </summary>
    public static bool IsStaticElf(string path, out string reason)
    {
        try
        {
            using var f = File.OpenRead(path);
            // The headers sit at the start: 4 KiB holds them in any usual binary, and a fresh 64 KiB buffer costs
            // ~15 page faults (every configure and update-ldcache checks two binaries). Up to 64 KiB where they end later.
            foreach (var size in (ReadOnlySpan<int>)[4096, 64 * 1024])
            {
                var head = new byte[Math.Min(f.Length, size)];
                f.Position = 0;
                f.ReadExactly(head);
                var ok = IsStaticElf(head, out reason);
                if (ok || reason != OutOfRange || head.Length == f.Length) return ok;
            }
            reason = OutOfRange;
            return false;
        }
        catch (IOException e) { reason = e.Message; return false; }
        catch (UnauthorizedAccessException e) { reason = e.Message; return false; }
    }

    const string OutOfRange = "program headers out of range";

    public static bool IsStaticElf(byte[] h, out string reason)
    {
        reason = "not an ELF file";
        if (h.Length < 52 || h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F') return false;
        var is64 = h[4] == 2;
        var little = h[5] == 1;
        ushort U16(int o) => little ? BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(o)) : BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(o));
        uint U32(int o) => little ? BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(o));
        ulong U64(int o) => little ? BinaryPrimitives.ReadUInt64LittleEndian(h.AsSpan(o)) : BinaryPrimitives.ReadUInt64BigEndian(h.AsSpan(o));
        var type = U16(16);
        if (type is not (2 or 3)) { reason = "not an executable ELF file"; return false; }
        var phoff = is64 ? U64(32) : U32(28);
        var phentsize = U16(is64 ? 54 : 42);
        var phnum = U16(is64 ? 56 : 44);
        for (var i = 0; i < phnum; i++)
        {
            var at = phoff + (ulong)i * phentsize;
            if (at + 4 > (ulong)h.Length) { reason = OutOfRange; return false; }
            if (U32((int)at) == 3) { reason = "dynamically linked (has an ELF interpreter)"; return false; }
        }
        reason = "";
        return true;
    }
}

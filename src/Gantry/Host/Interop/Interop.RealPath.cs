using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathCall(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    /// <summary>realpath(3) of a host path (every symlink resolved); null when it does not exist.</summary>
    internal static string? RealPath(string path)
    {
        var p = RealPathCall(path, 0);
        if (p == 0) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }
}

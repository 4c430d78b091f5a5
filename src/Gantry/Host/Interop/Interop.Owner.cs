using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // With AT_EMPTY_PATH and an O_PATH fd this changes exactly the file the fd pins.
    [LibraryImport("libc", EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int FChownAt(int dirfd, string path, uint uid, uint gid, int flags);
}

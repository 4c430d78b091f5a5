using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // .NET has no hard-link API; the driver volume is built from hard links where it can be.
    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Link(string oldPath, string newPath);
}

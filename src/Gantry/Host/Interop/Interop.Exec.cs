using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    // execv keeps the C environ untouched, which is exactly the environment the shim was started with.
    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Execv(string path, string?[] argv);
}

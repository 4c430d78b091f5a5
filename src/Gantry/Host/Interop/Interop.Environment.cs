using System.Runtime.InteropServices;

namespace Gantry.Host;

internal static partial class Interop
{
    [LibraryImport("libc", EntryPoint = "clearenv", SetLastError = true)]
    internal static partial int ClearEnv();

    [LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetEnv(string name, string value, int overwrite);
}

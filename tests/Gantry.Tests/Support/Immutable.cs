using System.Diagnostics;

namespace Gantry.Tests.Support;

/// <summary>
/// chattr +i on a file or directory for the length of a test, taken back on Dispose. Null where it cannot be
/// set (not root, no chattr, a file system without the attribute): the test then returns early as skipped.
/// </summary>
internal sealed class Immutable : IDisposable
{
    readonly string _path;

    Immutable(string path) => _path = path;

    public static Immutable? TrySet(string path) => Chattr("+i", path) ? new Immutable(path) : null;

    public void Dispose() => Chattr("-i", _path);

    static bool Chattr(string flag, string path)
    {
        try
        {
            var psi = new ProcessStartInfo("chattr") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(flag);
            psi.ArgumentList.Add(path);
            using var p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}

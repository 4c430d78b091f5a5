using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

/// <summary>
/// Reads an <see cref="NvmlSnapshot"/> from an NVML library given by path: the real libnvidia-ml.so.1 in a
/// driver root, or Gantry's stand-in in a simulated one. Every failure (no file, not loadable, not NVML, an
/// NVML error) comes back as an error string, never as an exception.
/// </summary>
internal static unsafe class NvmlLibrary
{
    public static bool TryQuery(string libraryPath,
        [NotNullWhen(true)] out NvmlSnapshot? snapshot, [NotNullWhen(false)] out string? error)
    {
        snapshot = null;
        string path;
        try { path = Path.GetFullPath(libraryPath); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            error = $"nvml error: invalid library path '{libraryPath}': {e.Message}";
            return false;
        }
        if (!File.Exists(path))
        {
            error = $"nvml error: library {path} does not exist";
            return false;
        }

        nint library;
        try { library = NativeLibrary.Load(path); }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            error = $"nvml error: cannot load {path}: {LastLine(e.Message)}";
            return false;
        }

        try
        {
            if (!NvmlApi.TryResolve(library, path, out var api, out error)) return false;
            var rc = api.Init();
            if (rc != NvmlReturn.Success)
            {
                error = $"nvml error: {api.Describe(rc)} calling nvmlInit_v2 ({path})";
                return false;
            }
            try
            {
                snapshot = new NvmlReader(api).Read();
                error = null;
                return true;
            }
            catch (NvmlCallException e)
            {
                error = e.Message;
                return false;
            }
            finally
            {
                api.Shutdown();
            }
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }

    // .NET prefixes dlerror's text with a paragraph of advice; the last line is the part that says why.
    static string LastLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? message : lines[^1];
    }
}

/// <summary>An NVML call that failed; only ever thrown and caught inside the binding.</summary>
internal sealed class NvmlCallException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

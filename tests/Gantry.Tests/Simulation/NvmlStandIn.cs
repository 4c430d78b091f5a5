using System.Diagnostics;
using Gantry.Discovery;
using Gantry.Simulation;

namespace Gantry.Tests.Simulation;

/// <summary>
/// The NVML stand-in library for tests: GANTRY_NVML_STANDIN if it names a built .so, otherwise built once per
/// test run with native/build.sh into a temp dir. Tests that need it use <see cref="NvmlFactAttribute"/>,
/// which skips them with the reason when there is neither a prebuilt library nor gcc.
/// </summary>
internal static class NvmlStandIn
{
    public const string Collection = "NVML stand-in";
    static readonly Lazy<string> built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Why stand-in tests cannot run here, or null when they can.</summary>
    public static string? SkipReason { get; } = FindSkipReason();

    /// <summary>Path of the built stand-in (gantry-nvml-standin.so).</summary>
    public static string LibraryPath => built.Value;

    /// <summary>A fresh temp dir holding the stand-in as libnvidia-ml.so.1 and, if given, its facts file.</summary>
    public static string Install(string dir, NvmlSnapshot? snapshot, IReadOnlyDictionary<int, NvmlGpuExtras>? extras = null)
    {
        Directory.CreateDirectory(dir);
        // A copy, not a link: each test's library is then a distinct object for the dynamic loader.
        var lib = Path.Combine(dir, "libnvidia-ml.so.1");
        File.Copy(LibraryPath, lib, overwrite: true);
        if (snapshot is not null) NvmlFacts.Write(Path.Combine(dir, NvmlFacts.FileName), snapshot, extras);
        return lib;
    }

    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "gantry-nvml-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    static string? FindSkipReason()
    {
        var prebuilt = Environment.GetEnvironmentVariable("GANTRY_NVML_STANDIN");
        if (!string.IsNullOrEmpty(prebuilt))
            return File.Exists(prebuilt) ? null : $"GANTRY_NVML_STANDIN={prebuilt} does not exist";
        if (FindRepoFile("native/build.sh") is null) return "native/build.sh not found above the test directory";
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var cc = Environment.GetEnvironmentVariable("CC") ?? "gcc";
        var haveCc = Path.IsPathRooted(cc) ? File.Exists(cc)
            : path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, cc)));
        return haveCc ? null : $"{cc} is not installed: cannot build the NVML stand-in (set GANTRY_NVML_STANDIN to a built one)";
    }

    static string Build()
    {
        var prebuilt = Environment.GetEnvironmentVariable("GANTRY_NVML_STANDIN");
        if (!string.IsNullOrEmpty(prebuilt)) return Path.GetFullPath(prebuilt);

        var script = FindRepoFile("native/build.sh") ?? throw new InvalidOperationException("native/build.sh not found");
        var outDir = NewTempDir();
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("native/build.sh timed out");
        }
        var lib = Path.Combine(outDir, "gantry-nvml-standin.so");
        if (process.ExitCode != 0 || !File.Exists(lib))
            throw new InvalidOperationException($"native/build.sh failed ({process.ExitCode}): {stdout.Result}{stderr.Result}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(outDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return lib;
    }

    static string? FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}

/// <summary>A fact that needs the NVML stand-in; skipped with the reason when it cannot be had.</summary>
public sealed class NvmlFactAttribute : FactAttribute
{
    public NvmlFactAttribute()
    {
        if (NvmlStandIn.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>A temp directory removed at dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = NvmlStandIn.NewTempDir();

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(NvmlStandIn.Collection, DisableParallelization = true)]
public sealed class NvmlStandInCollection;

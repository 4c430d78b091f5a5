using Gantry.Host;

namespace Gantry.Tests.Support;

// Where the published binary is, and what this machine can run; the skip attributes ask here.
internal static class TestEnvironment
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string BinDir => Environment.GetEnvironmentVariable("GANTRY_BIN_DIR") is { Length: > 0 } d ? d : Path.Combine(RepoRoot, "out");
    public static string Gantry => Path.Combine(BinDir, "gantry");
    public static string NvidiaCtk => Path.Combine(BinDir, "nvidia-ctk");
    public static string NvmlStandIn => Path.Combine(BinDir, "gantry-nvml-standin.so");
    public static bool IsRoot => global::Gantry.Host.Interop.GetEuid() == 0;
    public const string NeedsRoot = "needs root (mounts, namespaces or mknod); run the suite as root, as CI does";

    /// <summary>CI sets this: a test that needs an engine must fail rather than skip when the engine is missing.</summary>
    public static bool EnginesRequired => Environment.GetEnvironmentVariable("GANTRY_REQUIRE_ENGINES") == "1";

    public static string? MissingBinary() => File.Exists(Gantry) ? null : $"the published binary {Gantry} is missing; run ./build.sh first";

    public static ProcessResult Run(string program, params string[] args) => ProcessRunner.Run(program, args);

    static string FindRepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Gantry.slnx"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("cannot find the repository root (Gantry.slnx)");
    }
}

/// <summary>A temporary directory deleted at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("gantry-test-").FullName;
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

namespace Gantry.Tests.Support;

/// <summary>
/// A stand-in nvidia-container-cli: a script that writes its argv (one per line, argv[0] first) and its environment
/// to files beside it and exits with a chosen code. Shows what the hook execs without doing any of the work.
/// </summary>
internal sealed class RecordingCli
{
    public string Path { get; }
    public string ArgvFile => Path + ".argv";
    public string EnvFile => Path + ".env";

    public RecordingCli(string dir, int exitCode = 0, string name = "nvidia-container-cli")
    {
        Directory.CreateDirectory(dir);
        Path = System.IO.Path.Combine(dir, name);
        File.WriteAllText(Path, $"#!/bin/sh\nenv > '{EnvFile}.tmp' && mv '{EnvFile}.tmp' '{EnvFile}'\n" +
                                $"printf '%s\\n' \"$0\" \"$@\" > '{ArgvFile}.tmp' && mv '{ArgvFile}.tmp' '{ArgvFile}'\nexit {exitCode}\n");
        File.SetUnixFileMode(Path, (UnixFileMode)0b111_101_101);
    }

    /// <summary>The last invocation's argv joined by spaces, or null when it never ran.</summary>
    public string? LastArgv() => File.Exists(ArgvFile) ? string.Join(" ", File.ReadAllLines(ArgvFile)) : null;

    public string[] LastEnv() => File.Exists(EnvFile) ? File.ReadAllLines(EnvFile) : [];

    public void Forget() { File.Delete(ArgvFile); File.Delete(EnvFile); }
}

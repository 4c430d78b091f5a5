namespace Gantry.Common;

internal enum LogLevel { Error = 0, Warning = 1, Info = 2, Debug = 3 }

// Human-facing diagnostics go to stderr only: stdout belongs to the command's output (specs, lists) and,
// for the runtime shim, to the low-level runtime.
internal sealed class Log(TextWriter sink, LogLevel level)
{
    public LogLevel Level { get; set; } = level;
    public static Log Stderr(LogLevel level = LogLevel.Info) => new(Console.Error, level);
    public static Log Silent { get; } = new(TextWriter.Null, LogLevel.Error);

    public void Error(string message) => Write(LogLevel.Error, "ERROR", message);
    public void Warning(string message) => Write(LogLevel.Warning, "WARNING", message);
    public void Info(string message) => Write(LogLevel.Info, "INFO", message);
    public void Debug(string message) => Write(LogLevel.Debug, "DEBUG", message);

    void Write(LogLevel l, string tag, string message)
    {
        if (l <= Level) sink.WriteLine($"{tag}: {message}");
    }
}

/// <summary>A failure the user can act on: printed as one line (what, where, what to do), no stack trace.</summary>
internal sealed class GantryException : Exception
{
    public int ExitCode { get; }
    public GantryException(string message, int exitCode = 1) : base(message) => ExitCode = exitCode;
    public GantryException(string message, Exception inner, int exitCode = 1) : base(message, inner) => ExitCode = exitCode;
}

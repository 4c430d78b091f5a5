using System.Text;
using System.Text.Json;
using Gantry.Common;

namespace Gantry.Runtime;

// The shim's log: the config's nvidia-container-runtime.debug file and runc's --log file, text (logrus style)
// or JSON lines (level, msg, time) with --log-format json. Never stdout: that belongs to runc. Files are opened
// on the first message that passes the level, so a plain start/state/delete touches no file at all.
internal sealed class RuntimeLog : IDisposable
{
    readonly List<(string Path, bool Json)> _targets = new();
    readonly List<(FileStream Stream, bool Json)> _open = new();
    bool _opened;

    public LogLevel Level { get; set; }

    public RuntimeLog(LogLevel level, string? configFile, string? logFile, bool json)
    {
        Level = level;
        if (!string.IsNullOrEmpty(configFile) && configFile != "/dev/null") _targets.Add((configFile, false));
        if (!string.IsNullOrEmpty(logFile) && logFile != "/dev/null") _targets.Add((logFile, json));
    }

    public static LogLevel ParseLevel(string? text, out bool valid)
    {
        valid = true;
        switch (text?.ToLowerInvariant())
        {
            case "panic" or "fatal" or "error": return LogLevel.Error;
            case "warn" or "warning": return LogLevel.Warning;
            case "info": return LogLevel.Info;
            case "debug" or "trace": return LogLevel.Debug;
            default: valid = false; return LogLevel.Info;
        }
    }

    public void Error(string m) => Write(LogLevel.Error, m);
    public void Warning(string m) => Write(LogLevel.Warning, m);
    public void Info(string m) => Write(LogLevel.Info, m);
    public void Debug(string m) => Write(LogLevel.Debug, m);

    public void Write(LogLevel level, string message)
    {
        if (level > Level || _targets.Count == 0) return;
        lock (_open) Append(level, message); // a served hook logs from its own thread (ServedHook)
    }

    void Append(LogLevel level, string message)
    {
        OpenOnce();
        var name = level switch { LogLevel.Error => "error", LogLevel.Warning => "warning", LogLevel.Info => "info", _ => "debug" };
        var time = DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:ss.fffffffzzz", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (stream, json) in _open)
        {
            var line = json ? JsonLine(name, message, time) : $"time=\"{time}\" level={name} msg={Quote(message)}\n";
            var bytes = Encoding.UTF8.GetBytes(line);
            try { stream.Write(bytes); stream.Flush(); } catch (IOException) { } // a full disk must not fail a container
        }
    }

    /// <summary>A Log that forwards into this log, for the shared pipeline (discovery) that logs through Log.</summary>
    public Log AsCliLog() => new(new Forwarder(this), Level);

    void OpenOnce()
    {
        if (_opened) return;
        _opened = true;
        foreach (var (path, json) in _targets)
        {
            try
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(path));
                if (dir is not null) Directory.CreateDirectory(dir);
                _open.Add((new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete,
                    UnixCreateMode = (UnixFileMode)0b110_100_100,
                }), json));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"nvidia-container-runtime: warning: cannot open log file {path}: {e.Message}");
            }
        }
    }

    static string JsonLine(string level, string msg, string time)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("level", level);
            w.WriteString("msg", msg);
            w.WriteString("time", time);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";

    public void Dispose()
    {
        foreach (var (s, _) in _open) s.Dispose();
        _open.Clear();
    }

    // Log writes "TAG: message" lines; map them back to levels.
    sealed class Forwarder(RuntimeLog log) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void WriteLine(string? value)
        {
            if (value is null) return;
            var colon = value.IndexOf(": ", StringComparison.Ordinal);
            var (tag, msg) = colon < 0 ? ("INFO", value) : (value[..colon], value[(colon + 2)..]);
            log.Write(tag switch { "ERROR" => LogLevel.Error, "WARNING" => LogLevel.Warning, "DEBUG" => LogLevel.Debug, _ => LogLevel.Info }, msg);
        }
    }
}

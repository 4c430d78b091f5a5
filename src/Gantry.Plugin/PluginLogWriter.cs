using System.Text;
using Gantry.NvidiaDocker;

namespace Gantry.Plugin;

// The original's log line: "<argv0> | 2006/01/02 15:04:05 message", on stderr. Informational lines carry no
// tag, as there; warnings and errors keep theirs.
internal sealed class PluginLogWriter(string program, TextWriter sink) : TextWriter
{
    readonly Lock _lock = new();

    public override Encoding Encoding => sink.Encoding;

    public override void WriteLine(string? value)
    {
        var line = value ?? "";
        if (line.StartsWith("INFO: ", StringComparison.Ordinal)) line = line[6..];
        lock (_lock)
        {
            sink.Write(GoLogLine.Format(program, line) + "\n");
            sink.Flush();
        }
    }

    public override void Write(char value) => WriteLine(value.ToString());
}

using System.Globalization;

namespace Gantry.NvidiaDocker;

/// <summary>nvidia-docker's log line, as Go's log package wrote it with the program as prefix.</summary>
internal static class GoLogLine
{
    /// <summary>"&lt;argv0&gt; | 2006/01/02 15:04:05 message" (local time).</summary>
    public static string Format(string program, string message) =>
        $"{program} | {DateTime.Now.ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture)} {message}";
}

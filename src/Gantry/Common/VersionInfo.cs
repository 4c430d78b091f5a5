namespace Gantry.Common;

// Tools and scripts parse the original's version lines, so each name prints the original's shape with the toolkit
// version Gantry is a drop-in for; Gantry's own version follows on a line of its own ("gantry version X").
internal static class VersionInfo
{
    /// <summary>Gantry's own version.</summary>
    public const string Version = "0.1.0";
    /// <summary>The NVIDIA Container Toolkit (and libnvidia-container) release whose behaviour Gantry reproduces.</summary>
    public const string ToolkitVersion = "1.20.0";
    public const string Commit = "gantry";

    /// <summary>The line that names Gantry's own version, printed after the original's lines.</summary>
    public static string GantryLine => $"gantry version {Version}";

    /// <summary>The toolkit's Go tools: "&lt;product&gt; version 1.20.0", "commit: …", the extra lines, then Gantry's line.</summary>
    public static string Text(string product, params string[] extra) =>
        string.Join('\n', new[] { $"{product} version {ToolkitVersion}", $"commit: {Commit}" }.Concat(extra).Append(GantryLine));
}

namespace Gantry.Common;

internal static class VersionInfo
{
    public const string Version = "0.1.0";
    public static string Text(string product) => $"{product} version {Version}\ncommit: gantry";
}

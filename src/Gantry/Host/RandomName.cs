using System.Security.Cryptography;

namespace Gantry.Host;

/// <summary>Unpredictable name parts for files created in a root the image controls (guessable names invite pre-planted symlinks).</summary>
internal static class RandomName
{
    public static string Next() => RandomNumberGenerator.GetInt32(int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);
    public static string Uuid() => Guid.NewGuid().ToString("D");
}

namespace Gantry.Host;

/// <summary>Unpredictable name parts for files created in a root the image controls (guessable names invite pre-planted symlinks).</summary>
internal static class RandomName
{
    // Guid.NewGuid draws from the kernel's CSPRNG; RandomNumberGenerator would load and initialise OpenSSL
    // (~10 ms in every hook process) for the same four bytes.
    public static string Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        return (BitConverter.ToInt32(bytes) & int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string Uuid() => Guid.NewGuid().ToString("D");
}

using System.Globalization;
using Gantry.Common;

namespace Gantry.NvidiaDockerWrapper;

// An image labelled com.nvidia.cuda.version needs a driver that supports at least that CUDA version.
internal static class CudaCheck
{
    /// <summary>Throws "unsupported CUDA version: driver D &lt; image I" when the image wants a newer CUDA.</summary>
    public static void Ensure(string imageLabel, string driverCuda)
    {
        if (imageLabel.Length == 0) return;
        var driver = Parse(driverCuda, "the driver's CUDA version");
        var image = Parse(imageLabel, $"label {ImageLabels.CudaVersionLabel}");
        if (image.CompareTo(driver) > 0) throw new GantryException($"unsupported CUDA version: driver {driverCuda} < image {imageLabel}");
    }

    /// <summary>"MAJOR.MINOR" at the start of the text, as Go's Sscanf("%d.%d") reads it ("9.0.176" is 9.0).</summary>
    static (int, int) Parse(string text, string what)
    {
        var parts = text.Trim().Split('.');
        if (parts.Length >= 2 && int.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(new string(parts[1].TakeWhile(char.IsAsciiDigit).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            return (major, minor);
        throw new GantryException($"invalid CUDA version '{text}' in {what}: expected MAJOR.MINOR");
    }
}

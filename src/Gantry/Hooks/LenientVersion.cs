using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Gantry.Hooks;

/// <summary>
/// A semantic version parsed leniently, as driver and CUDA versions are written: "575.57.08", "12.9", "v12",
/// an optional "-prerelease" and "+build". Missing parts are 0; leading zeros are allowed.
/// </summary>
internal sealed record LenientVersion(ulong Major, ulong Minor, ulong Patch, string Prerelease) : IComparable<LenientVersion>
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out LenientVersion? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        if (s[0] is 'v' or 'V') s = s[1..];
        var plus = s.IndexOf('+');
        if (plus >= 0) s = s[..plus];
        var pre = "";
        var dash = s.IndexOf('-');
        if (dash >= 0) { pre = s[(dash + 1)..]; s = s[..dash]; if (pre.Length == 0) return false; }
        var parts = s.Split('.');
        if (parts.Length is < 1 or > 3) return false;
        var nums = new ulong[3];
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].Length == 0 || !ulong.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out nums[i])) return false;
        version = new LenientVersion(nums[0], nums[1], nums[2], pre);
        return true;
    }

    public int CompareTo(LenientVersion? other)
    {
        if (other is null) return 1;
        var c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;
        // A release sorts after its prereleases.
        if (Prerelease.Length == 0) return other.Prerelease.Length == 0 ? 0 : 1;
        if (other.Prerelease.Length == 0) return -1;
        return ComparePrerelease(Prerelease, other.Prerelease);
    }

    static int ComparePrerelease(string a, string b)
    {
        var x = a.Split('.');
        var y = b.Split('.');
        for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            var xn = ulong.TryParse(x[i], NumberStyles.None, CultureInfo.InvariantCulture, out var xv);
            var yn = ulong.TryParse(y[i], NumberStyles.None, CultureInfo.InvariantCulture, out var yv);
            var c = xn && yn ? xv.CompareTo(yv) : xn ? -1 : yn ? 1 : string.CompareOrdinal(x[i], y[i]);
            if (c != 0) return Math.Sign(c);
        }
        return x.Length.CompareTo(y.Length);
    }

    public static bool operator >(LenientVersion a, LenientVersion b) => a.CompareTo(b) > 0;
    public static bool operator <(LenientVersion a, LenientVersion b) => a.CompareTo(b) < 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}" + (Prerelease.Length > 0 ? "-" + Prerelease : "");
}

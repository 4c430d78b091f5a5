using System.Diagnostics.CodeAnalysis;

namespace Gantry.Cdi;

// CDI naming: a kind is "vendor/class", a fully-qualified device name is "vendor/class=name".
// vendor: a letter first, a letter or digit last, letters, digits, '_', '-', '.' between (e.g. nvidia.com).
// class:  the same alphabet ('.' since CDI 0.6.0).
// name:   a letter or digit first and last, letters, digits, '_', '-', '.', ':' between.
internal sealed record QualifiedName(string Vendor, string Class, string Name)
{
    public string Kind => Vendor + "/" + Class;
    public override string ToString() => $"{Vendor}/{Class}={Name}";

    public static string Of(string kind, string name) => kind + "=" + name;

    /// <summary>Parses and validates "vendor/class=name"; on failure says why.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out QualifiedName? qualified, [NotNullWhen(false)] out string? error)
    {
        qualified = null;
        var eq = text.IndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
        {
            error = $"\"{text}\" is not a qualified device name (vendor/class=name)";
            return false;
        }
        if (!TryParseKind(text[..eq], out var vendor, out var cls, out error)) return false;
        var name = text[(eq + 1)..];
        if (ValidateDeviceName(name) is string bad) { error = bad; return false; }
        qualified = new QualifiedName(vendor, cls, name);
        return true;
    }

    /// <summary>True when the text looks like a qualified name (has "/" before "="), valid or not.</summary>
    public static bool IsQualified(string text)
    {
        var eq = text.IndexOf('=');
        var slash = text.IndexOf('/');
        return slash > 0 && eq > slash + 1 && eq < text.Length - 1;
    }

    public static bool TryParseKind(string kind, [NotNullWhen(true)] out string? vendor, [NotNullWhen(true)] out string? cls, [NotNullWhen(false)] out string? error)
    {
        vendor = cls = null;
        var slash = kind.IndexOf('/');
        if (slash <= 0 || slash == kind.Length - 1)
        {
            error = $"kind \"{kind}\" is not of the form vendor/class";
            return false;
        }
        var v = kind[..slash];
        var c = kind[(slash + 1)..];
        error = ValidateVendor(v) ?? ValidateClass(c);
        if (error is not null) return false;
        vendor = v;
        cls = c;
        return true;
    }

    public static string? ValidateVendor(string vendor) => ValidateVendorOrClass("vendor", vendor);
    public static string? ValidateClass(string cls) => ValidateVendorOrClass("class", cls);

    static string? ValidateVendorOrClass(string what, string s)
    {
        if (s.Length == 0) return $"invalid {what}: empty";
        if (!IsLetter(s[0])) return $"invalid {what} \"{s}\": must start with a letter";
        if (!IsAlnum(s[^1])) return $"invalid {what} \"{s}\": must end with a letter or digit";
        foreach (var c in s)
            if (!IsAlnum(c) && c is not ('_' or '-' or '.'))
                return $"invalid {what} \"{s}\": invalid character '{c}'";
        return null;
    }

    public static string? ValidateDeviceName(string name)
    {
        if (name.Length == 0) return "invalid device name: empty";
        if (!IsAlnum(name[0])) return $"invalid device name \"{name}\": must start with a letter or digit";
        if (!IsAlnum(name[^1])) return $"invalid device name \"{name}\": must end with a letter or digit";
        foreach (var c in name)
            if (!IsAlnum(c) && c is not ('_' or '-' or '.' or ':'))
                return $"invalid device name \"{name}\": invalid character '{c}'";
        return null;
    }

    public static bool IsLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
    static bool IsAlnum(char c) => IsLetter(c) || c is >= '0' and <= '9';
}

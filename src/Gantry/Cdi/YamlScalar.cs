using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Gantry.Cdi;

// How gopkg.in/yaml.v3 writes a string scalar: plain when the text reads back as the same string, "double
// quoted" when plain text would resolve to another type (0, true, null, 1.5, 2001-01-01, yes, 1:20), and
// 'single quoted' when plain text would not parse (leading "- ", "#", ": ", surrounding spaces, ...).
internal static partial class YamlScalar
{
    public static string Format(string s)
    {
        if (s.AsSpan().IndexOfAny("\n\r\u0085\u2028\u2029") >= 0) return DoubleQuoted(s); // yaml.v3 uses a literal block for "\n"; we keep one line
        if (!ResolvesToString(s) || IsBase60Float(s) || IsOldBool(s)) return DoubleQuoted(s);
        var (plain, single) = Analyze(s);
        if (plain) return s;
        return single ? "'" + s.Replace("'", "''") + "'" : DoubleQuoted(s);
    }

    static bool IsOldBool(string s) => s is "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO"
        or "on" or "On" or "ON" or "off" or "Off" or "OFF";

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")]
    private static partial Regex Base60();
    // Only digit-led text with a colon can be base 60; the guard keeps the regex off nearly every scalar.
    static bool IsBase60Float(string s) =>
        s.Length > 0 && (char.IsAsciiDigit(s[0]) || s[0] is '+' or '-') && s.Contains(':') && Base60().IsMatch(s);

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex YamlFloat();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))|( [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?))?$")]
    private static partial Regex Timestamp();

    // yaml.v3's resolve() for an untagged plain scalar: does the text stay a string?
    static bool ResolvesToString(string s)
    {
        if (s.Length == 0) return false; // null
        if (s is "~" or "null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE"
            or ".nan" or ".NaN" or ".NAN" or ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF"
            or "-.inf" or "-.Inf" or "-.INF" or "<<") return false;
        var c = s[0];
        if (c == '.') return !(s.Length > 1 && YamlFloat().IsMatch(s));
        if (c is not ('+' or '-' or (>= '0' and <= '9'))) return true;
        if (Timestamp().IsMatch(s)) return false;
        var plain = s.Replace("_", "");
        if (IsGoInteger(plain)) return false;
        if (YamlFloat().IsMatch(plain)) return false;
        return true;
    }

    // strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64) succeeds.
    static bool IsGoInteger(string s)
    {
        var sign = s.Length > 0 && s[0] is '+' or '-' ? s[0] : '\0';
        var body = sign == '\0' ? s : s[1..];
        int radix = 10;
        if (body.Length > 2 && body[0] == '0' && body[1] is 'x' or 'X') { radix = 16; body = body[2..]; }
        else if (body.Length > 2 && body[0] == '0' && body[1] is 'o' or 'O') { radix = 8; body = body[2..]; }
        else if (body.Length > 2 && body[0] == '0' && body[1] is 'b' or 'B') { radix = 2; body = body[2..]; }
        else if (body.Length > 1 && body[0] == '0') { radix = 8; body = body[1..]; }
        if (body.Length == 0) return false;
        UInt128 value = 0;
        foreach (var ch in body)
        {
            var d = ch is >= '0' and <= '9' ? ch - '0' : ch is >= 'a' and <= 'f' ? ch - 'a' + 10 : ch is >= 'A' and <= 'F' ? ch - 'A' + 10 : 99;
            if (d >= radix) return false;
            value = value * (uint)radix + (uint)d;
            if (value > ulong.MaxValue) return false;
        }
        return sign switch
        {
            '\0' => true,                                   // fits ParseUint
            '+' => value <= long.MaxValue,
            _ => value <= (UInt128)long.MaxValue + 1,
        };
    }

    // libyaml's scalar analysis, reduced to the block context we write in: may it be plain, or single quoted?
    static (bool Plain, bool Single) Analyze(string s)
    {
        bool flowInd = false, blockInd = false, leadingSpace = false, trailingSpace = false, special = false;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal)) blockInd = flowInd = true;
        var precededByWs = true;
        var runes = s.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            var r = runes[i].Value;
            var followedByWs = i + 1 >= runes.Length || runes[i + 1].Value is ' ' or '\t';
            if (i == 0)
            {
                if (r is '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`')
                    flowInd = blockInd = true;
                else if (r is '?' or ':') { flowInd = true; if (followedByWs) blockInd = true; }
                else if (r == '-' && followedByWs) flowInd = blockInd = true;
            }
            else
            {
                if (r is ',' or '?' or '[' or ']' or '{' or '}') flowInd = true;
                else if (r == ':') { flowInd = true; if (followedByWs) blockInd = true; }
                else if (r == '#' && precededByWs) flowInd = blockInd = true;
            }
            if (!IsPrintable(r)) special = true;
            if (r == ' ') { if (i == 0) leadingSpace = true; if (i == runes.Length - 1) trailingSpace = true; }
            precededByWs = r is ' ' or '\t';
        }
        if (special) return (false, false);
        return (!(leadingSpace || trailingSpace || blockInd), true);
    }

    static bool IsPrintable(int r) =>
        r == 0x0A || (r >= 0x20 && r <= 0x7E) || r == 0x85 || (r >= 0xA0 && r <= 0xD7FF) ||
        (r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF) || r >= 0x10000;

    static string DoubleQuoted(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (var rune in s.EnumerateRunes())
        {
            var r = rune.Value;
            var isBreak = r is '\n' or '\r' or 0x85 or 0x2028 or 0x2029;
            if (IsPrintable(r) && r != 0xFEFF && !isBreak && r != '"' && r != '\\') { b.Append(rune.ToString()); continue; }
            b.Append(r switch
            {
                0 => "\\0", 7 => "\\a", 8 => "\\b", 9 => "\\t", 0xA => "\\n", 0xB => "\\v", 0xC => "\\f", 0xD => "\\r",
                0x1B => "\\e", '"' => "\\\"", '\\' => "\\\\", 0x85 => "\\N", 0xA0 => "\\_", 0x2028 => "\\L", 0x2029 => "\\P",
                <= 0xFF => "\\x" + r.ToString("X2", CultureInfo.InvariantCulture),
                <= 0xFFFF => "\\u" + r.ToString("X4", CultureInfo.InvariantCulture),
                _ => "\\U" + r.ToString("X8", CultureInfo.InvariantCulture),
            });
        }
        return b.Append('"').ToString();
    }
}

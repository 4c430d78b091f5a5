namespace Gantry.Discovery;

// Shell-style matching of one name (Go filepath.Match semantics for the cases the driver file lists use):
// '*' any run of characters, '?' one character, '[...]' a class with ranges and '^'/'!' negation.
internal static class Glob
{
    public static bool IsPattern(string s) => s.AsSpan().IndexOfAny("*?[") >= 0;

    public static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == '*') { starP = p++; starN = n; continue; }
            if (p < pattern.Length && MatchOne(pattern, ref p, name[n])) { n++; continue; }
            if (starP < 0) return false;
            p = starP + 1;
            n = ++starN;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    // Advances p past one pattern element when it matches c.
    static bool MatchOne(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        var ch = pattern[p];
        if (ch == '?') { p++; return true; }
        if (ch == '\\' && p + 1 < pattern.Length) { if (pattern[p + 1] != c) return false; p += 2; return true; }
        if (ch != '[') { if (ch != c) return false; p++; return true; }
        var i = p + 1;
        var negate = i < pattern.Length && (pattern[i] == '^' || pattern[i] == '!');
        if (negate) i++;
        var matched = false;
        var first = true;
        while (i < pattern.Length && (first || pattern[i] != ']'))
        {
            first = false;
            var lo = pattern[i];
            if (i + 2 < pattern.Length && pattern[i + 1] == '-' && pattern[i + 2] != ']')
            {
                if (c >= lo && c <= pattern[i + 2]) matched = true;
                i += 3;
            }
            else { if (c == lo) matched = true; i++; }
        }
        if (i >= pattern.Length) return false; // unterminated class never matches
        if (matched == negate) return false;
        p = i + 1;
        return true;
    }
}

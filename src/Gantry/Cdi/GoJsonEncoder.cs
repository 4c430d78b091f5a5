using System.Text.Encodings.Web;
using System.Text;

namespace Gantry.Cdi;

// Escapes exactly what Go's encoding/json escapes (control characters, quote, backslash, <, >, &, U+2028,
// U+2029) so that our JSON specs are byte-identical to the original's; everything else stays UTF-8.
internal sealed class GoJsonEncoder : JavaScriptEncoder
{
    public static GoJsonEncoder Instance { get; } = new();

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar is '"' or '\\' or '<' or '>' or '&' or 0x2028 or 0x2029;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                // A valid pair is kept as is; a lone surrogate is encoded (Go writes U+FFFD for invalid UTF-8).
                if (char.IsHighSurrogate(c) && i + 1 < textLength && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
                return i;
            }
            if (WillEncode(c)) return i;
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        string s = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when Rune.IsValid(unicodeScalar) && !WillEncode(unicodeScalar) => char.ConvertFromUtf32(unicodeScalar),
            _ when !Rune.IsValid(unicodeScalar) => "\\ufffd",
            _ => "\\u" + unicodeScalar.ToString("x4"),
        };
        if (s.Length > bufferLength) { numberOfCharactersWritten = 0; return false; }
        for (var i = 0; i < s.Length; i++) buffer[i] = s[i];
        numberOfCharactersWritten = s.Length;
        return true;
    }
}

using System.Text;

namespace Gantry.Cdi;

// The order yaml.v3 writes map keys in (annotations): letters compare as characters, runs of digits compare
// as numbers ("a2" < "a10"), and a letter sorts after a digit unless a digit run is in progress.
internal static class YamlKeyOrder
{
    public static int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        if (x == y) return 0;
        return Less(x, y) ? -1 : Less(y, x) ? 1 : string.CompareOrdinal(x, y);
    }

    static bool Less(string a, string b)
    {
        var ar = a.EnumerateRunes().ToArray();
        var br = b.EnumerateRunes().ToArray();
        var digits = false;
        for (var i = 0; i < ar.Length && i < br.Length; i++)
        {
            if (ar[i] == br[i]) { digits = Rune.IsDigit(ar[i]); continue; }
            var al = Rune.IsLetter(ar[i]);
            var bl = Rune.IsLetter(br[i]);
            if (al && bl) return ar[i].Value < br[i].Value;
            if (al || bl) return digits ? al : bl;
            long an = 0, bn = 0;
            if (ar[i].Value == '0' || br[i].Value == '0')
            {
                for (var j = i - 1; j >= 0 && Rune.IsDigit(ar[j]); j--)
                    if (ar[j].Value != '0') { an = 1; bn = 1; break; }
            }
            int ai = i, bi = i;
            for (; ai < ar.Length && Rune.IsDigit(ar[ai]); ai++) an = unchecked(an * 10 + (ar[ai].Value - '0'));
            for (; bi < br.Length && Rune.IsDigit(br[bi]); bi++) bn = unchecked(bn * 10 + (br[bi].Value - '0'));
            if (an != bn) return an < bn;
            if (ai != bi) return ai < bi;
            return ar[i].Value < br[i].Value;
        }
        return ar.Length < br.Length;
    }
}

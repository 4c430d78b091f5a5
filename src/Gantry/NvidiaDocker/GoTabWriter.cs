using System.Text;

namespace Gantry.NvidiaDocker;

// Elastic tabstops as Go's text/tabwriter lays them out with padding character ' ' and no flags, which is how
// nvidia-docker-plugin aligned its text reports: a cell is text ended by a tab; a column block is a run of
// consecutive lines that have a cell in that column, padded to its widest cell (+ padding, at least minWidth);
// the text after a line's last tab belongs to no column. Widths count runes.
internal static class GoTabWriter
{
    public static string Format(string text, int minWidth = 0, int padding = 0)
    {
        var lines = text.Split('\n');
        var cells = new List<string[]>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split('\t');
            // The final line has no newline: an empty cell after its last tab was never terminated, so it is not one.
            if (i == lines.Length - 1 && parts.Length > 1 && parts[^1].Length == 0) parts = parts[..^1];
            cells.Add(parts);
        }
        var output = new StringBuilder(text.Length + 256);
        var widths = new List<int>();
        FormatBlock(cells, 0, cells.Count, widths, minWidth, padding, output);
        return output.ToString();
    }

    static void FormatBlock(List<string[]> lines, int line0, int line1, List<int> widths, int minWidth, int padding, StringBuilder output)
    {
        var column = widths.Count;
        for (var current = line0; current < line1; current++)
        {
            if (column >= lines[current].Length - 1) continue;
            // A cell in this column: lines before it are complete with the widths known so far.
            WriteLines(lines, line0, current, widths, output);
            line0 = current;
            var width = minWidth;
            for (; current < line1 && column < lines[current].Length - 1; current++)
                width = Math.Max(width, Runes(lines[current][column]) + padding);
            widths.Add(width);
            FormatBlock(lines, line0, current, widths, minWidth, padding, output);
            widths.RemoveAt(widths.Count - 1);
            line0 = current;
        }
        WriteLines(lines, line0, line1, widths, output);
    }

    static void WriteLines(List<string[]> lines, int from, int to, List<int> widths, StringBuilder output)
    {
        for (var i = from; i < to; i++)
        {
            var line = lines[i];
            for (var j = 0; j < line.Length; j++)
            {
                output.Append(line[j]);
                if (j < widths.Count) output.Append(' ', Math.Max(0, widths[j] - Runes(line[j])));
            }
            if (i + 1 < lines.Count) output.Append('\n');
        }
    }

    static int Runes(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }
}

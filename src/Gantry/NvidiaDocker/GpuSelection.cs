using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Gantry.Discovery;

namespace Gantry.NvidiaDocker;

// NV_GPU and the REST API's dev= name GPUs by NVML index ("1") or by a prefix of their UUID ("GPU-3f2a").
// Duplicates collapse; the result is in index order (the original's came out in Go map order, i.e. random).
internal static class GpuSelection
{
    /// <summary>NV_GPU's list: split on spaces and commas, empty items dropped.</summary>
    public static IReadOnlyList<string> ParseList(string? value) =>
        (value ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The GPUs the ids name; error "invalid device: ID" for the first id that names none.</summary>
    public static bool TrySelect<T>(IReadOnlyList<T> gpus, Func<T, GpuInfo> info, IEnumerable<string> ids,
        [NotNullWhen(true)] out List<T>? selected, [NotNullWhen(false)] out string? error)
    {
        var chosen = new SortedSet<int>();
        foreach (var id in ids)
        {
            var index = Find(gpus, info, id);
            if (index < 0)
            {
                selected = null;
                error = $"invalid device: {id}";
                return false;
            }
            chosen.Add(index);
        }
        selected = chosen.Select(i => gpus[i]).ToList();
        error = null;
        return true;
    }

    static int Find<T>(IReadOnlyList<T> gpus, Func<T, GpuInfo> info, string id)
    {
        if (id.StartsWith("GPU-", StringComparison.Ordinal))
        {
            for (var i = 0; i < gpus.Count; i++)
                if (info(gpus[i]).Uuid.StartsWith(id, StringComparison.Ordinal)) return i;
            return -1;
        }
        // Go's Atoi: optional sign, decimal digits, nothing else.
        return int.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 0 && n < gpus.Count ? n : -1;
    }
}

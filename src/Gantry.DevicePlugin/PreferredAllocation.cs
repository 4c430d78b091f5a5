namespace Gantry.DevicePlugin;

// GetPreferredAllocation's choice for one container. Whole GPUs (and MIG devices) are packed by topology: the set
// with the smallest sum of pairwise NVML topology levels (same board < one PCIe switch < several < host bridge <
// NUMA node < across sockets), tried from every seed, so two GPUs behind one switch beat two across sockets.
// Time-slicing replicas are spread: each next replica comes from the GPU with the fewest replicas in use, so a
// pod asking for two replicas gets two GPUs where it can.
internal sealed class PreferredAllocation(PluginResource resource, Func<int, int, int> distance)
{
    readonly Dictionary<string, PluginDevice> _byId = resource.Devices.ToDictionary(d => d.Id, StringComparer.Ordinal);

    public IReadOnlyList<string> Choose(IReadOnlyList<string> available, IReadOnlyList<string> mustInclude, int size)
    {
        foreach (var id in available.Concat(mustInclude))
            if (!_byId.ContainsKey(id)) throw new AllocationException($"{resource.Name}: unknown device id '{id}' in the preferred-allocation request");
        if (size < 0) throw new AllocationException($"{resource.Name}: allocation size {size} is negative");
        if (mustInclude.Count > size) throw new AllocationException($"{resource.Name}: {mustInclude.Count} devices must be included in an allocation of {size}");
        var free = available.Where(id => !mustInclude.Contains(id)).Distinct().ToList();
        if (free.Count + mustInclude.Count < size)
            throw new AllocationException($"{resource.Name}: {size} devices wanted, {free.Count + mustInclude.Count} available");
        var chosen = mustInclude.Distinct().ToList();
        return resource.Shared ? Spread(chosen, free, available, size) : Pack(chosen, free, size);
    }

    List<string> Spread(List<string> chosen, List<string> free, IReadOnlyList<string> available, int size)
    {
        // Replicas in use per GPU: those it has minus those still available; chosen ones count as used.
        var availableSet = available.ToHashSet(StringComparer.Ordinal);
        var used = resource.Devices.GroupBy(d => d.Uuid).ToDictionary(g => g.Key, g => g.Count(d => !availableSet.Contains(d.Id)));
        foreach (var id in chosen) used[_byId[id].Uuid]++;
        var pool = free.ToList();
        while (chosen.Count < size)
        {
            var next = pool.OrderBy(id => used[_byId[id].Uuid]).ThenBy(id => _byId[id].Gpu.Index).ThenBy(id => _byId[id].Replica).First();
            chosen.Add(next);
            pool.Remove(next);
            used[_byId[next].Uuid]++;
        }
        return chosen;
    }

    List<string> Pack(List<string> chosen, List<string> free, int size)
    {
        if (chosen.Count == size) return chosen;
        List<string>? best = null;
        var bestScore = long.MaxValue;
        var seeds = chosen.Count > 0 ? [null] : free.Cast<string?>().ToList();
        foreach (var seed in seeds)
        {
            var set = seed is null ? chosen.ToList() : [seed];
            var pool = free.Where(id => id != seed).ToList();
            while (set.Count < size)
            {
                var next = pool.OrderBy(id => set.Sum(s => (long)Distance(s, id))).ThenBy(id => _byId[id].Gpu.Index).First();
                set.Add(next);
                pool.Remove(next);
            }
            var score = Score(set);
            if (score < bestScore) { bestScore = score; best = set; }
        }
        return best!;
    }

    long Score(List<string> set)
    {
        long sum = 0;
        for (var i = 0; i < set.Count; i++)
            for (var j = i + 1; j < set.Count; j++) sum += Distance(set[i], set[j]);
        return sum;
    }

    int Distance(string a, string b)
    {
        var (x, y) = (_byId[a].Gpu.Index, _byId[b].Gpu.Index);
        return x == y ? 0 : distance(x, y);
    }
}

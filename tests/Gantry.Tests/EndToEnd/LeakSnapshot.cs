using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// What a host holds that container starts could leak: the open fds of long-lived daemons (dockerd, containerd, the
/// nvidia-docker plugin), the mounts under a directory as the daemons' mount namespace sees them, the files in
/// /run/gantry beside its two caches (the shim's fast path and the NVML inventory), the unix sockets under some
/// directories and there, and processes of gantry's binaries still running. Take one before a load and compare one
/// after with <see cref="LeaksSince"/>.
/// </summary>
internal sealed record LeakSnapshot(
    IReadOnlyDictionary<string, IReadOnlyList<string>> Fds, IReadOnlyList<string> Mounts, IReadOnlySet<string> RunFiles,
    IReadOnlySet<string> Sockets, IReadOnlyList<string> GantryProcesses)
{
    const string RunDir = "/run/gantry";
    static readonly string[] Caches = ["shim", "inventory"];

    /// <param name="daemons">name → pid of the processes whose fds are counted (and which may run gantry's binaries)</param>
    /// <param name="mountNamespacePid">a process in the daemons' mount namespace</param>
    /// <param name="under">the directory whose mounts are counted, and whose sockets are</param>
    /// <param name="socketsNotCounted">
    /// daemons whose sockets are left out of their fds: dockerd keeps the server end of finished clients' API
    /// connections for a while (tens after a batch of plain runc runs too, closed again later): Docker's, not a leak
    /// of a GPU route; what a route could leak in dockerd (a hook's pipes, files) is still counted
    /// </param>
    public static LeakSnapshot Take(IReadOnlyDictionary<string, int> daemons, int mountNamespacePid, string under, params string[] socketsNotCounted)
    {
        var fds = daemons.ToDictionary(d => d.Key, d => (IReadOnlyList<string>)FdKinds(d.Value)
            .Where(k => k != "socket" || !socketsNotCounted.Contains(d.Key)).ToList());
        var mounts = File.ReadAllLines($"/proc/{mountNamespacePid}/mountinfo")
            .Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(under, StringComparison.Ordinal)).ToList();
        var runFiles = Directory.Exists(RunDir)
            ? Directory.EnumerateFileSystemEntries(RunDir, "*", SearchOption.AllDirectories)
                .Where(p => !File.GetAttributes(p).HasFlag(FileAttributes.Directory))
                .Where(p => !Caches.Any(c => p.StartsWith($"{RunDir}/{c}/", StringComparison.Ordinal))).ToHashSet()
            : [];
        var sockets = new[] { under, RunDir }.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            .Where(IsSocket).ToHashSet();
        return new LeakSnapshot(fds, mounts, runFiles, sockets, GantryProcessesBut(daemons.Values.ToHashSet()));
    }

    // What each fd is: "socket", "pipe", "anon_inode:[eventpoll]", or the file's path.
    static IReadOnlyList<string> FdKinds(int pid)
    {
        var kinds = new List<string>();
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            try { kinds.Add(new FileInfo(fd).LinkTarget is { } t ? System.Text.RegularExpressions.Regex.Replace(t, @":\[\d+\]$", "") : "?"); }
            catch (IOException) { } // closed meanwhile
        }
        return kinds;
    }

    static bool IsSocket(string path) =>
        global::Gantry.Host.FileStatus.TryLstat(path, out var st) && st.Type == global::Gantry.Host.FileType.Socket;

    // Processes whose executable is one of the published binaries (the shim, the hook, the CLI, a served hook's
    // client): after a load has finished none may be left.
    static List<string> GantryProcessesBut(HashSet<int> known)
    {
        var bin = Path.GetFullPath(TestEnvironment.BinDir) + "/";
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || known.Contains(pid)) continue;
            try
            {
                if (File.ResolveLinkTarget(dir + "/exe", false)?.FullName is { } exe && exe.StartsWith(bin, StringComparison.Ordinal))
                    found.Add($"{pid} {exe}");
            }
            catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>The start of a leak line about fds: growth that a second identical load does not repeat is a pool filling up.</summary>
    public const string FdGrowth = "fds: ";

    /// <summary>What grew since <paramref name="before"/>; fds may grow by <paramref name="fdSlack"/> per daemon (pools, idle connections).</summary>
    public List<string> LeaksSince(LeakSnapshot before, int fdSlack)
    {
        var leaks = new List<string>();
        foreach (var (name, now) in Fds)
            if (before.Fds.TryGetValue(name, out var was) && now.Count > was.Count + fdSlack)
            {
                var added = now.GroupBy(k => k).Select(g => (g.Key, More: g.Count() - was.Count(k => k == g.Key))).Where(g => g.More > 0);
                leaks.Add($"{FdGrowth}{name} holds {now.Count} fds, {was.Count} before; more: {string.Join(", ", added.Select(a => $"{a.More}x {a.Key}"))}");
            }
        if (Mounts.Count > before.Mounts.Count) leaks.Add($"{Mounts.Count - before.Mounts.Count} more mounts: {string.Join(", ", Mounts.Except(before.Mounts).Take(5))}");
        leaks.AddRange(RunFiles.Except(before.RunFiles).Select(f => $"left in /run/gantry: {f}"));
        leaks.AddRange(Sockets.Except(before.Sockets).Select(f => $"socket left: {f}"));
        leaks.AddRange(GantryProcesses.Select(p => $"still running: {p}"));
        return leaks;
    }

    /// <summary>Waits up to <paramref name="settle"/> for what closes late (a shim's exit, an idle connection) before saying what leaked.</summary>
    public static List<string> LeaksAfter(LeakSnapshot before, Func<LeakSnapshot> take, int fdSlack, TimeSpan settle)
    {
        var until = DateTime.UtcNow + settle;
        while (true)
        {
            var leaks = take().LeaksSince(before, fdSlack);
            if (leaks.Count == 0 || DateTime.UtcNow > until) return leaks;
            Thread.Sleep(250);
        }
    }
}

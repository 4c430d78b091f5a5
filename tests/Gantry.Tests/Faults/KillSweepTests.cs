using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.EndToEnd;
using Gantry.Tests.Support;

namespace Gantry.Tests.Faults;

// SIGKILL at every fault point of a GPU container's create (Host/FaultPoint: GANTRY_FAULT_POINT), through real runc
// on a simulated host, for each process that takes part: the runtime shim, its served hook, the hook as its own
// process (nvidia-cdi-hook), and nvidia-container-runtime-hook with nvidia-container-cli configure in it (the
// --gpus route). Each kill must fail the create (the container's process never runs), leave no mount and no stray
// file in the run directory (the hook sockets; the caches are meant to stay), no half-written config.json, and the
// same container (same id, same bundle and root, config.json written again as an engine does) must then start
// with its GPU.
public sealed class KillSweepTests(ShimHost host) : IClassFixture<ShimHost>
{
    // Where each point is reached: the route whose create passes it. "served": the shim serving its hook (jit-cdi);
    // "process": the same with GANTRY_NO_HOOK_SERVER=1 (runc starts nvidia-cdi-hook); "gpus": runc with
    // nvidia-container-runtime-hook as prestart hook, nvidia-container-cli configure running in it.
    public static readonly TheoryData<string, string> Points = new()
    {
        { "served", "shim-spec-read" },
        { "served", "shim-spec-modified" },
        { "served", "write:config.json" },
        { "served", "shim-spec-written" },
        { "served", "shim-runc-started" },
        { "served", "served-hook-joined" },
        { "served", "hook-before-ldconfig" },
        { "served", "hook-after-ldconfig" },
        { "served", "served-hook-answered" },
        { "served", "hook-symlink-made" },
        { "process", "shim-spec-written" },
        { "process", "hook-before-ldconfig" },
        { "process", "hook-after-ldconfig" },
        { "process", "hook-symlink-made" },
        { "gpus", "prestart-spec-read" },
        { "gpus", "prestart-before-cli" },
        { "gpus", "configure-planned" },
        { "gpus", "configure-mount-made" },
        { "gpus", "configure-symlink-made" },
        { "gpus", "configure-mounts-done" },
        { "gpus", "configure-before-ldconfig" },
        { "gpus", "configure-after-ldconfig" },
    };

    const string Script = "ls /dev > /result; echo --- >> /result; nvidia-smi -L >> /result 2>&1";

    string Run { get; set; } = "";
    string Markers => host.Dir["markers"];

    [EngineTheory("runc")]
    [MemberData(nameof(Points))]
    public void A_kill_fails_the_create_leaks_nothing_and_the_same_container_then_starts(string route, string point)
    {
        var id = "kill-" + route;
        Run = host.Dir["run-template"];
        var (original, clean) = Template(route);
        Run = host.Dir[$"run-{route}-{point.Replace(':', '-')}"];
        var bundle = host.Dir[$"kill-{route}-{point.Replace(':', '-')}"];
        Copy(host.Dir["template-" + route], bundle);
        var result = Path.Combine(bundle, "rootfs/result");
        Directory.CreateDirectory(Markers);
        File.Delete(Path.Combine(Markers, point.Replace('/', '_')));
        File.Delete(result);

        var armed = Create(route, bundle, id, $"GANTRY_FAULT_POINT='{point}' GANTRY_FAULT_DIR='{Markers}' ");
        // An engine never starts a container whose create failed; this one tries, to show none is left to start. A
        // shim killed after runc created the container leaves its guard to delete it: given a moment to do so.
        Eventually(() => Runtime(route, "", "state", id) is { ExitCode: 0 } s && s.Stdout.Contains("\"created\"") ? "created" : null);
        var started = Runtime(route, "", "start", id);
        Runtime(route, "", "delete", "--force", id); // what the engine does after a failed create

        Assert.True(File.Exists(Path.Combine(Markers, point.Replace('/', '_'))), $"{route}: the point {point} was not reached: {armed.Combined}\n{LogTail()}");
        Assert.True(armed.ExitCode != 0, $"{route}/{point}: the create succeeded");
        Assert.True(started.ExitCode != 0 && !File.Exists(result), $"{route}/{point}: the container started after its create failed");
        AssertNothingLeaked(route, point, bundle, afterKill: true);
        var spec = File.ReadAllText(Path.Combine(bundle, "config.json"));
        Assert.True(spec == original || JsonNode.Parse(spec) is JsonObject, $"{route}/{point}: config.json is half written");

        // The same container again, unarmed: config.json as the engine writes it, same id, same root.
        File.WriteAllText(Path.Combine(bundle, "config.json"), original);
        var seen = RunContainer(route, bundle, id);
        var parts = seen.Split("---\n");
        Assert.Contains("nvidia0", parts[0].Split('\n'));
        Assert.StartsWith("GPU 0: ", parts[1]);
        AssertNothingLeaked(route, point, bundle, afterKill: false);
        // What the killed create left in the root is what a whole create leaves (mount points, symlinks, the
        // ld.so.cache), or the next create removed it: the root is as after the first, clean, run.
        Assert.Equal(clean, Tree(Path.Combine(bundle, "rootfs")));
    }

    // Every entry of a root: path, kind and size or link target; not the script's /result, and not the
    // update-ldcache hook's drop-ins, which have new random names on every start.
    static string Tree(string rootfs)
    {
        var lines = new List<string>();
        void Walk(DirectoryInfo dir)
        {
            foreach (var e in dir.EnumerateFileSystemInfos())
            {
                var rel = Path.GetRelativePath(rootfs, e.FullName);
                if (rel == "result" || (rel.StartsWith("etc/ld.so.conf.d/", StringComparison.Ordinal) && e.Name.Contains("-nvcr-", StringComparison.Ordinal))) continue;
                if (e.LinkTarget is { } target) lines.Add($"{rel} -> {target}");
                else if (rel == "etc/ld.so.cache") lines.Add(rel); // the first start's lacks libcuda.so (dangling until ldconfig links libcuda.so.1)
                else if (e is DirectoryInfo d) { lines.Add(rel + "/"); Walk(d); }
                else lines.Add($"{rel} {((FileInfo)e).Length}");
            }
        }
        Walk(new DirectoryInfo(rootfs));
        lines.Sort(StringComparer.Ordinal);
        return string.Join("\n", lines);
    }

    // No mount under the test's directory (the bundles, the run directory); in the run directory only the caches
    // (inventory, the shim's fast path) and, right after a kill, the killed shim's hook socket, which the next
    // create removes.
    void AssertNothingLeaked(string route, string point, string bundle, bool afterKill)
    {
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Where(l => l.Contains(host.Dir.Path, StringComparison.Ordinal)).ToList();
        Assert.True(mounts.Count == 0, $"{route}/{point}: mounts left: {string.Join("\n", mounts)}");
        // No process of the container lives on (a runc init holding the container's mount namespace); SIGKILLed
        // processes take a moment to go.
        var rootfs = Path.Combine(bundle, "rootfs");
        var living = Eventually(() =>
        {
            var pids = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit))
                .Where(p => Link($"/proc/{p}/root") == rootfs || Link($"/proc/{p}/cwd") is { } cwd && cwd.StartsWith(bundle, StringComparison.Ordinal))
                .ToList();
            return pids.Count > 0 ? string.Join(", ", pids.Select(Describe)) : null;
        });
        Assert.True(living is null, $"{route}/{point}: processes of the container live on: {living}");
        Assert.False(Directory.Exists(Path.Combine(host.StateRoot, "kill-" + route)), $"{route}/{point}: runc still has the container");
        var stray = Directory.Exists(Run)
            ? Directory.EnumerateFileSystemEntries(Run, "*", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(Run, p))
                .Where(p => p is not ("hooks" or "inventory" or "shim") && !p.StartsWith("inventory/", StringComparison.Ordinal) && !p.StartsWith("shim/", StringComparison.Ordinal))
                .Where(p => !(afterKill && p.StartsWith("hooks/", StringComparison.Ordinal) && p.EndsWith(".sock", StringComparison.Ordinal) && IsDeadPid(p)))
                .ToList()
            : [];
        Assert.True(stray.Count == 0, $"{route}/{point}: left in the run directory: {string.Join(", ", stray.Select(s => s + " " + File.GetLastWriteTimeUtc(Path.Combine(Run, s)).ToString("HH:mm:ss.fff") + " " + Describe(Path.GetFileName(s).Split('-')[0])))} at {DateTime.UtcNow:HH:mm:ss.fff}");
        var temp = Directory.EnumerateFiles(bundle, ".config.json.*").ToList();
        Assert.True(afterKill || point == "write:config.json" || temp.Count == 0, $"{route}/{point}: temporary files beside config.json: {string.Join(", ", temp)}");
    }

    // Polls what (non-null: still there) for up to three seconds; returns its last value.
    static string? Eventually(Func<string?> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(3);
        string? value;
        while ((value = what()) is not null && DateTime.UtcNow < deadline) Thread.Sleep(20);
        return value;
    }

    string LogTail() => File.Exists(host.LogFile) is var e && e ? string.Join("\n", File.ReadLines(host.LogFile).TakeLast(15)) : "";

    static string Describe(string? pid)
    {
        try { return $"{pid} {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')} ({File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("State:"))}, ppid {File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("PPid:"))}, cwd {Link($"/proc/{pid}/cwd")})"; }
        catch (IOException) { return pid + " (gone)"; }
    }

    static string? Link(string path)
    {
        try { return new DirectoryInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    static bool IsDeadPid(string socket)
    {
        var name = Path.GetFileName(socket);
        return int.TryParse(name[..Math.Max(name.IndexOf('-'), 0)], out var pid) &&
               (!File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].StartsWith('Z'));
    }

    static void Copy(string from, string to)
    {
        var r = ProcessRunner.Run("cp", ["-a", from, to]);
        Assert.True(r.ExitCode == 0, r.Combined);
    }

    // A route's bundle, made once and copied for each point (a fresh root each time): the config.json an engine
    // writes, and the root as one whole create leaves it.
    (string Spec, string Tree) Template(string route)
    {
        var bundle = host.Dir["template-" + route];
        var original = Path.Combine(bundle, "config.orig.json");
        var cleanTree = Path.Combine(bundle, "tree.clean");
        if (File.Exists(cleanTree)) return (File.ReadAllText(original), File.ReadAllText(cleanTree));
        OciBundle.Create(bundle, Script, ["NVIDIA_VISIBLE_DEVICES=0"]);
        File.WriteAllText(Path.Combine(bundle, "rootfs/etc/debian_version"), "12\n");
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!.AsObject();
        if (route == "gpus")
        {
            // Docker's --gpus hook; its environment points it at the simulated host and the private run directory,
            // and passes an armed fault point on (runc gives a hook only its entry's environment).
            spec["hooks"] = new JsonObject
            {
                ["prestart"] = new JsonArray(new JsonObject
                {
                    ["path"] = "/bin/sh",
                    ["args"] = new JsonArray("sh", "-c",
                        $"exec env NVIDIA_CTK_CONFIG_FILE_PATH='{host.Dir["config.toml"]}' GANTRY_INVENTORY_DIR='{Run}/inventory' " +
                        $"$(cat '{host.Dir["gpus-fault"]}') '{Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime-hook")}' prestart"),
                    ["env"] = new JsonArray("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
                }),
            };
        }
        var text = spec.ToJsonString();
        File.WriteAllText(Path.Combine(bundle, "config.json"), text);
        var clean = host.Dir["clean-" + route];
        Copy(bundle, clean);
        RunContainer(route, clean, "kill-" + route);
        var tree = Tree(Path.Combine(clean, "rootfs"));
        File.WriteAllText(original, text);
        File.WriteAllText(cleanTree, tree);
        return (text, tree);
    }

    ProcessResult Create(string route, string bundle, string id, string armed)
    {
        // The --gpus route's hook reads its arming from a file (its entry in config.json is the engine's, unchanged).
        File.WriteAllText(host.Dir["gpus-fault"], route == "gpus" && armed.Length > 0
            ? string.Join(' ', armed.Trim().Split(' ').Select(a => a.Replace("'", "")))
            : "GANTRY_FAULT_POINT=");
        return Runtime(route, armed, "create", "--bundle", bundle, id);
    }

    ProcessResult Runtime(string route, string armed, params string[] args)
    {
        var env = $"GANTRY_HOOK_SOCKET_DIR='{Run}/hooks' GANTRY_SHIM_CACHE_DIR='{Run}/shim' GANTRY_INVENTORY_DIR='{Run}/inventory' " +
                  (route == "process" ? "GANTRY_NO_HOOK_SERVER=1 " : "") + armed;
        return host.RunWith(env, route == "gpus" ? "runc" : host.Shim, host.Dir["config.toml"], args);
    }

    string RunContainer(string route, string bundle, string id)
    {
        var c = Create(route, bundle, id, "");
        Assert.True(c.ExitCode == 0, $"{route}: the create after the kill failed: {c.Combined}");
        var s = Runtime(route, "", "start", id);
        Assert.True(s.ExitCode == 0, s.Combined);
        for (var i = 0; i < 100 && !Runtime(route, "", "state", id).Stdout.Contains("\"stopped\""); i++) Thread.Sleep(50);
        Assert.Equal(0, Runtime(route, "", "delete", "--force", id).ExitCode);
        return File.ReadAllText(Path.Combine(bundle, "rootfs/result"));
    }
}

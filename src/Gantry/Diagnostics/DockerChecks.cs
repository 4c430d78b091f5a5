using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Engines.Configure;
using Gantry.Requests;

namespace Gantry.Diagnostics;

// Docker: the runtime registered in daemon.json with a path dockerd finds, the hook on dockerd's PATH (the --gpus
// route), and the Swarm generic-resource kind matching config.toml's swarm-resource.
internal static class DockerChecks
{
    public const string RuntimeName = "nvidia";
    const string RuntimeBinary = "nvidia-container-runtime", HookBinary = "nvidia-container-runtime-hook";

    public static IEnumerable<Finding> Run(DoctorFacts facts)
    {
        if (!facts.DockerInUse)
        {
            yield return Finding.Ok("docker", "Docker is not installed, running or configured; its checks are skipped");
            yield break;
        }
        yield return Runtime(facts);
        yield return Hook(facts);
        yield return Swarm(facts);
    }

    static string Restart => "systemctl restart docker";

    static Finding Runtime(DoctorFacts facts)
    {
        var path = facts.Setup.DaemonJsonPath;
        if (facts.DaemonJsonError is { } error)
            return Finding.Problem("docker-runtime", $"{path} is not valid JSON",
                $"dockerd refuses to start with it ({error}).",
                $"mv {path} {path}.broken && nvidia-ctk runtime configure --runtime=docker --config={path} && {Restart}");
        var known = KnownBinary(facts, RuntimeBinary);
        var configure = $"nvidia-ctk runtime configure --runtime=docker --config={path}" +
                        (known is null || known == RuntimeBinary ? "" : $" --nvidia-runtime-path={known}") + $" && {Restart}";
        var runtimes = facts.DaemonJson?["runtimes"] as JsonObject;
        var entries = runtimes?.Where(kv => kv.Key == RuntimeName || PathOf(kv.Value) is { } p && Path.GetFileName(p).StartsWith(RuntimeBinary, StringComparison.Ordinal)).ToList() ?? [];
        if (entries.Count == 0)
            return Finding.Problem("docker-runtime", $"no NVIDIA runtime in {path}",
                $"`docker run --runtime={RuntimeName}` fails with \"unknown or invalid runtime name: {RuntimeName}\", and Swarm and CDI set-ups that rely on it do not work.",
                configure) with { Repair = known is null ? null : new RegisterRuntime(path, RuntimeName, known) };
        foreach (var (name, value) in entries)
        {
            var runtimePath = PathOf(value);
            if (runtimePath is null || facts.Which(runtimePath) is null)
                return Finding.Problem("docker-runtime", $"runtimes.{name}.path in {path} is \"{runtimePath}\", which dockerd cannot find",
                    $"`docker run --runtime={name}` fails with \"exec: \\\"{runtimePath}\\\": executable file not found in $PATH\" because it is not an executable {(runtimePath?.StartsWith('/') == true ? "file" : $"on dockerd's PATH ({facts.EnginePathSource}: {facts.EnginePath})")}.",
                    configure) with { Repair = known is null || name != RuntimeName ? null : new RegisterRuntime(path, name, known) };
        }
        return Finding.Ok("docker-runtime", $"runtime {string.Join(", ", entries.Select(e => $"{e.Key} -> {facts.Which(PathOf(e.Value)!)}"))} registered in {path}");
    }

    static Finding Hook(DoctorFacts facts)
    {
        if (facts.Which(HookBinary) is { } found) return Finding.Ok("docker-hook", $"{found} is on dockerd's PATH (docker run --gpus works)");
        var link = facts.Setup.SelfPath is { } self ? $"ln -s {self} {LinkDirectory(facts.EnginePath)}/{HookBinary} && {Restart}" : $"apt-get install gantry && {Restart}";
        return Finding.Problem("docker-hook", $"{HookBinary} is not on dockerd's PATH",
            $"dockerd offers --gpus only when it finds {HookBinary} on its PATH ({facts.EnginePathSource}: {facts.EnginePath}), so `docker run --gpus` fails with: could not select device driver \"\" with capabilities: [[gpu]].",
            link);
    }

    static Finding Swarm(DoctorFacts facts)
    {
        var path = facts.Setup.DaemonJsonPath;
        IReadOnlyList<string> kinds;
        try { kinds = DockerConfig.GpuResourceKinds(facts.DaemonJson is null ? null : facts.DaemonJsonText, path); }
        catch (GantryException) { kinds = []; }
        if (kinds.Count == 0) return Finding.Ok("swarm-resource", "daemon.json advertises no GPUs to Swarm");
        var listed = facts.EffectiveConfig.SwarmResourceVariables;
        var missing = kinds.Where(k => !listed.Contains(SwarmResource.Variable(k), StringComparer.Ordinal)).ToList();
        if (missing.Count == 0) return Finding.Ok("swarm-resource", $"Swarm GPUs of kind {string.Join(", ", kinds)} match swarm-resource");
        var variables = listed.Concat(missing.Select(SwarmResource.Variable)).Distinct();
        return Finding.Problem("swarm-resource",
            $"{path} advertises GPUs as {string.Join(", ", missing)}, but swarm-resource lists {string.Join(",", listed)}",
            $"Swarm hands each task its GPUs in {string.Join(", ", missing.Select(SwarmResource.Variable))}, which the runtime does not read, so it refuses those tasks rather than give them every GPU.",
            $"nvidia-ctk config --config-file={facts.Setup.ToolkitConfigPath} --in-place --set swarm-resource={string.Join(",", variables)}");
    }

    /// <summary>Where on dockerd's PATH a link belongs: the usual bin directory when the PATH has one, else its first directory.</summary>
    static string LinkDirectory(string enginePath)
    {
        var dirs = enginePath.Split(':', StringSplitOptions.RemoveEmptyEntries).Where(d => d.StartsWith('/')).ToList();
        return new[] { "/usr/bin", "/usr/local/bin", "/usr/sbin", "/bin", "/sbin" }.FirstOrDefault(dirs.Contains) ?? dirs.FirstOrDefault() ?? "/usr/bin";
    }

    static string? PathOf(JsonNode? entry) =>
        entry is JsonObject o && o["path"] is JsonValue v && v.TryGetValue<string>(out var p) ? p : null;

    /// <summary>How daemon.json should name our binary: its name where dockerd finds it on PATH, else our own path beside this executable.</summary>
    static string? KnownBinary(DoctorFacts facts, string name)
    {
        if (facts.Which(name) is not null) return name;
        if (facts.Setup.SelfPath is not { } self || facts.Setup.HostRoot != "/") return null;
        var beside = Path.Combine(Path.GetDirectoryName(self)!, name);
        return File.Exists(beside) ? beside : null;
    }
}

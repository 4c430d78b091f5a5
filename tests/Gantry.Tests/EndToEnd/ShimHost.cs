using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>A simulated 2-GPU host, a config.toml pointing the shim at it, and helpers to run runc-style commands.</summary>
public sealed class ShimHost : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Shim => Path.Combine(TestEnvironment.BinDir, "nvidia-container-runtime");
    internal string HostRoot => Dir["host"];
    internal string LogFile => Dir["runtime.log"];
    internal string StateRoot => Dir["state"];

    public ShimHost() : this([]) { }

    /// <param name="simulateArgs">more `gantry simulate` flags for the 2-GPU host (e.g. --mig 1:2)</param>
    internal ShimHost(params string[] simulateArgs)
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot) return;
        var sim = TestEnvironment.Run(TestEnvironment.Gantry, ["simulate", HostRoot, "--gpus", "2", "--device-nodes", "char", .. simulateArgs]);
        Assert.True(sim.ExitCode == 0, sim.Combined);
        WriteConfig("config.toml", "runc");
    }

    /// <summary>A config.toml naming the low-level runtime(s) and extra lines; returns its path. CDI specs are
    /// read from a private directory: the Podman tests put specs in /var/run/cdi while these run.</summary>
    internal string WriteConfig(string name, string runtimes, string extra = "")
    {
        var path = Dir[name];
        File.WriteAllText(path, $"""
            {extra}
            [nvidia-container-cli]
            root = "{HostRoot}"
            [nvidia-container-runtime]
            debug = "{LogFile}"
            runtimes = [{string.Join(", ", runtimes.Split(',').Select(r => $"\"{r}\""))}]
            [nvidia-container-runtime.modes.cdi]
            spec-dirs = ["{Dir["cdi"]}"]
            [nvidia-ctk]
            path = "{TestEnvironment.NvidiaCtk}"
            """);
        return path;
    }

    /// <summary>Runs a runtime command with stdio on files (a created container keeps runc's stdio open).</summary>
    internal ProcessResult Run(string runtime, string? config, params string[] args) => RunWith("", runtime, config, args);

    /// <summary>As <see cref="Run"/>, with extra "NAME=value " assignments in front of the command.</summary>
    internal ProcessResult RunWith(string assignments, string runtime, string? config, params string[] args)
    {
        var outFile = Dir[$"out-{Guid.NewGuid():N}"];
        var env = assignments + (config is null ? "" : $"NVIDIA_CTK_CONFIG_FILE_PATH='{config}' ");
        var quoted = string.Join(" ", args.Select(a => $"'{a}'"));
        var r = ProcessRunner.Run("sh", ["-c", $"{env}exec '{runtime}' --root '{StateRoot}' {quoted} >'{outFile}.1' 2>'{outFile}.2' </dev/null"]);
        return new ProcessResult(r.ExitCode, File.ReadAllText(outFile + ".1"), File.ReadAllText(outFile + ".2"));
    }

    /// <summary>create + start, wait until the container stopped, delete; returns what the script wrote to /result.</summary>
    internal string RunContainer(string runtime, string? config, string bundle, string id)
    {
        var c = Run(runtime, config, "create", "--bundle", bundle, id);
        Assert.True(c.ExitCode == 0, c.Combined);
        var s = Run(runtime, config, "start", id);
        Assert.True(s.ExitCode == 0, s.Combined);
        for (var i = 0; i < 100 && !Run(runtime, config, "state", id).Stdout.Contains("\"stopped\""); i++) Thread.Sleep(50);
        Assert.Equal(0, Run(runtime, config, "delete", "--force", id).ExitCode);
        return File.ReadAllText(Path.Combine(bundle, "rootfs/result"));
    }

    public void Dispose() => Dir.Dispose();
}

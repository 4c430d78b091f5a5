using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

/// <summary>
/// A private dockerd for `docker run --gpus`: its PATH starts with out/ (dockerd registers its NVIDIA device driver
/// only when nvidia-container-runtime-hook is on its PATH) and its NVIDIA_CTK_CONFIG_FILE_PATH names the hook's
/// config, which reaches the hook because Docker gives the hook dockerd's own environment. The machine's
/// /etc/nvidia-container-runtime is never touched. The same daemon registers "nvidia" (the runtime shim in legacy
/// mode, through a wrapper that sets its config: containerd's shim starts runtimes without dockerd's environment).
/// </summary>
public sealed class GpuDockerHost : IDisposable
{
    public const string Image = "gantry-e2e/busybox-gpus";
    // With gdrcopy's /dev/gdrdrv, for legacy mode's gated modifier.
    internal ShimHost Sim { get; } = new("--with", "gdrcopy");
    internal Docker? Docker { get; }
    internal string HookConfig => Sim.Dir["hook.toml"];
    internal string LegacyConfig => Sim.Dir["legacy.toml"];
    internal RecordingCli StandIn { get; }
    // A short directory: dockerd's socket paths must fit in sun_path.
    readonly string _dir = Path.Combine("/tmp", $"gg-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");

    public GpuDockerHost()
    {
        StandIn = new RecordingCli(Sim.Dir["stand-in"]);
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot || Gantry.Engines.Docker.Missing() is not null) return;
        UseCli(null);
        var wrapper = RuntimeWrapper.Write(Sim.Dir["nvidia-container-runtime"], Sim.Shim,
            new Dictionary<string, string> { ["NVIDIA_CTK_CONFIG_FILE_PATH"] = LegacyConfig });
        var path = TestEnvironment.BinDir + ":" + Environment.GetEnvironmentVariable("PATH");
        Docker = new Docker(_dir, new Dictionary<string, string> { ["nvidia"] = wrapper },
            new Dictionary<string, string> { ["PATH"] = path, ["NVIDIA_CTK_CONFIG_FILE_PATH"] = HookConfig });
        var tar = BusyboxImage.BuildTar(Sim.Dir["image"]);
        var import = ProcessRunner.Run("sh", ["-c", $"docker -H unix://{Docker.Socket} import '{tar}' {Image}"]);
        Assert.True(import.ExitCode == 0, import.Combined);
    }

    /// <summary>Points both configs at a CLI (null: the one the hook finds itself, i.e. gantry's, beside it on PATH).</summary>
    internal void UseCli(string? cliPath, string extraCliKeys = "")
    {
        var cli = cliPath is null ? "" : $"path = \"{cliPath}\"\n";
        var common = $"[nvidia-container-cli]\nroot = \"{Sim.HostRoot}\"\n{cli}{extraCliKeys}\n";
        File.WriteAllText(HookConfig, common);
        File.WriteAllText(LegacyConfig, common + $"[nvidia-container-runtime]\nmode = \"legacy\"\ndebug = \"{Sim.LogFile}\"\n");
    }

    internal ProcessResult Run(params string[] args) => Docker!.Run(["run", "--rm", .. args]);

    public void Dispose()
    {
        Docker?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        Sim.Dispose();
    }
}

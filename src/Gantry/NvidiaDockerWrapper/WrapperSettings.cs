using Gantry.Common;
using Gantry.NvidiaDocker;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>The two behaviours: 1.0 (devices and the driver volume) and 2.x (--runtime=nvidia).</summary>
internal enum WrapperMode { Volume, Runtime }

/// <summary>What the wrapper reads from its environment and its config file.</summary>
internal sealed record WrapperSettings
{
    /// <summary>NV_DOCKER split on whitespace, e.g. ["sudo", "docker"]; default ["docker"].</summary>
    public IReadOnlyList<string> DockerCommand { get; init; } = ["docker"];
    /// <summary>NV_SSH split on whitespace, the client of ssh:// hosts, e.g. ["ssh", "-F", "cfg"]; default ["ssh"] (Gantry's own).</summary>
    public IReadOnlyList<string> SshCommand { get; init; } = ["ssh"];
    /// <summary>NV_GPU as given (null when unset) and its items.</summary>
    public string? GpuVariable { get; init; }
    public IReadOnlyList<string> Gpus { get; init; } = [];
    public WrapperMode Mode { get; init; } = WrapperMode.Volume;
    public string DriverRoot { get; init; } = "/";
    public string? DevRoot { get; init; }
    public string? NvHost { get; init; }
    public string? DockerHost { get; init; }

    public const string DefaultConfigFile = "/etc/nvidia-docker/nvidia-docker.conf";

    /// <summary>The wrapper has no options of its own (every argument is docker's): these variables are its settings.
    /// NV_DEBUG adds the stack trace to an error; DOCKER_HOST is docker's, read to find a remote plugin.</summary>
    public static readonly string[] Variables =
        ["NV_DOCKER", "NV_SSH", "NV_GPU", "NV_DOCKER_MODE", "NV_DRIVER_ROOT", "NV_DEV_ROOT", "NV_HOST", "DOCKER_HOST", "NV_DOCKER_CONFIG", "NV_DEBUG"];

    /// <summary>The keys of the config file; any other key is an error.</summary>
    public static readonly string[] ConfigKeys = ["mode", "driver-root", "dev-root"];

    /// <summary>
    /// The environment wins over the config file (NV_DOCKER_CONFIG, else /etc/nvidia-docker/nvidia-docker.conf:
    /// "key = value" lines, '#' comments; keys mode, driver-root, dev-root).
    /// </summary>
    public static WrapperSettings Load(Func<string, string?> env)
    {
        var file = ConfigFile.Read(env("NV_DOCKER_CONFIG") is { Length: > 0 } p ? p : DefaultConfigFile, explicitPath: env("NV_DOCKER_CONFIG") is { Length: > 0 });
        string? Setting(string variable, string key) => env(variable) is { Length: > 0 } v ? v : file.GetValueOrDefault(key);
        var docker = (env("NV_DOCKER") ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var ssh = (env("NV_SSH") ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var gpu = env("NV_GPU");
        return new WrapperSettings
        {
            DockerCommand = docker.Length > 0 ? docker : ["docker"],
            SshCommand = ssh.Length > 0 ? ssh : ["ssh"],
            GpuVariable = gpu,
            Gpus = GpuSelection.ParseList(gpu),
            Mode = ParseMode(Setting("NV_DOCKER_MODE", "mode")),
            DriverRoot = Setting("NV_DRIVER_ROOT", "driver-root") ?? "/",
            DevRoot = Setting("NV_DEV_ROOT", "dev-root"),
            NvHost = env("NV_HOST"),
            DockerHost = env("DOCKER_HOST"),
        };
    }

    static WrapperMode ParseMode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "1" or "1.0" or "volume" => WrapperMode.Volume,
        "2" or "2.0" or "runtime" => WrapperMode.Runtime,
        _ => throw new GantryException($"invalid nvidia-docker mode '{value}': use 1 (devices and driver volume) or 2 (--runtime=nvidia)"),
    };

    static class ConfigFile
    {
        public static Dictionary<string, string> Read(string path, bool explicitPath)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            // Checked first: an exception per container start would cost more than the whole file.
            if (!explicitPath && !File.Exists(path)) return values;
            string[] lines;
            try { lines = File.ReadAllLines(path); }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && !explicitPath) { return values; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GantryException($"cannot read {path}: {e.Message}"); }
            for (var n = 0; n < lines.Length; n++)
            {
                var line = lines[n].Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                var eq = line.IndexOf('=');
                if (eq <= 0) throw new GantryException($"{path}:{n + 1}: expected 'key = value', got '{line}'");
                var key = line[..eq].Trim();
                if (!ConfigKeys.Contains(key))
                    throw new GantryException($"{path}:{n + 1}: unknown key '{key}' (known: {string.Join(", ", ConfigKeys)})");
                values[key] = line[(eq + 1)..].Trim().Trim('"');
            }
            return values;
        }
    }
}

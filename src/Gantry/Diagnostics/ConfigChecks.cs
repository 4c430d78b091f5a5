using Gantry.Config;

namespace Gantry.Diagnostics;

// config.toml: readable, a mode the runtime knows, an ldconfig that exists, no-cgroups where the engine is rootless.
internal static class ConfigChecks
{
    public static IEnumerable<Finding> Run(DoctorFacts facts)
    {
        var path = facts.Setup.ToolkitConfigPath;
        if (facts.ConfigError is { } error)
        {
            yield return Finding.Problem("config", $"{path} cannot be read",
                $"config.toml is not valid ({error}), so the runtime and the hook fail on every container start.",
                $"mv {path} {path}.broken && nvidia-ctk config default --output={path}");
            yield break;
        }
        yield return Finding.Ok("config", facts.ConfigExists ? $"{path} is valid" : $"{path} does not exist; the defaults apply");
        var config = facts.EffectiveConfig;

        var modes = ConfigValues.AllowedValues(ConfigValues.Mode)!;
        var mode = config.NvidiaContainerRuntime.Mode;
        yield return modes.Contains(mode)
            ? Finding.Ok("mode", $"nvidia-container-runtime.mode is {mode}")
            : Finding.Problem("mode", $"unknown nvidia-container-runtime.mode \"{mode}\"",
                $"the runtime refuses every container because \"{mode}\" is not one of {string.Join(", ", modes)}.",
                $"nvidia-ctk config --config-file={path} --in-place --set {ConfigValues.Mode}=auto");

        yield return Ldconfig(facts, config, path);
        yield return NoCgroups(facts, config, path);
    }

    static Finding Ldconfig(DoctorFacts facts, ToolkitConfig config, string path)
    {
        var ldconfig = config.NvidiaContainerCli.Ldconfig;
        if (!ldconfig.StartsWith('@'))
            return Finding.Warning("ldconfig", $"nvidia-container-cli.ldconfig is \"{ldconfig}\", the container's own",
                "an ldconfig taken from the container image runs with the hook's privileges; the host's (\"@/sbin/ldconfig\") is the safe choice.",
                $"nvidia-ctk config --config-file={path} --in-place --set nvidia-container-cli.ldconfig=@{HostLdconfig(facts) ?? "/sbin/ldconfig"}");
        var hostPath = ldconfig[1..];
        if (DoctorFacts.IsExecutable(facts.Setup.InHost(hostPath))) return Finding.Ok("ldconfig", $"{hostPath} exists");
        var other = HostLdconfig(facts);
        return Finding.Problem("ldconfig", $"nvidia-container-cli.ldconfig names {hostPath}, which is not an executable on this host",
            "the update-ldcache step cannot run, so containers start without the driver libraries in their ld.so.cache.",
            other is null ? "apt-get install --reinstall libc-bin"
                : $"nvidia-ctk config --config-file={path} --in-place --set nvidia-container-cli.ldconfig=@{other}");
    }

    static string? HostLdconfig(DoctorFacts facts) =>
        new[] { "/sbin/ldconfig.real", "/sbin/ldconfig", "/usr/sbin/ldconfig" }.FirstOrDefault(p => DoctorFacts.IsExecutable(facts.Setup.InHost(p)));

    static Finding NoCgroups(DoctorFacts facts, ToolkitConfig config, string path)
    {
        var noCgroups = config.NvidiaContainerCli.NoCgroups;
        if (facts.Rootless is { } why)
            return noCgroups
                ? Finding.Ok("rootless", $"the engine is rootless ({why}) and nvidia-container-cli.no-cgroups is true")
                : Finding.Problem("rootless", $"the engine is rootless ({why}) but nvidia-container-cli.no-cgroups is false",
                    "a rootless engine cannot write device cgroups, so every GPU container on the --gpus / legacy route fails to start.",
                    $"nvidia-ctk config --config-file={path} --in-place --set nvidia-container-cli.no-cgroups");
        return noCgroups
            ? Finding.Warning("rootless", "nvidia-container-cli.no-cgroups is true, but no rootless engine runs",
                "with no-cgroups a rootful engine's containers get the device nodes without the device cgroup rules that confine them.",
                $"nvidia-ctk config --config-file={path} --in-place --set nvidia-container-cli.no-cgroups=false")
            : Finding.Ok("rootless", "no rootless engine; device cgroups are managed");
    }
}

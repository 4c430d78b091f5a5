using System.Diagnostics.CodeAnalysis;

namespace Gantry.NvidiaDocker;

/// <summary>What `docker run` needs for GPUs: the volume driver, the volumes and the device nodes (as --device values).</summary>
internal sealed record DockerCliArgs(string VolumeDriver, IReadOnlyList<string> Volumes, IReadOnlyList<string> Devices)
{
    /// <summary>The REST API's text form: "--volume-driver=nvidia-docker --volume=… --device=…", no trailing newline.</summary>
    public string ToCommandLine() =>
        $"--volume-driver={VolumeDriver}" + string.Concat(Volumes.Select(v => $" --volume={v}")) + string.Concat(Devices.Select(d => $" --device={d}"));

    /// <summary>
    /// The arguments for the requested volumes and GPUs. A list that is one "*" or one empty item means all;
    /// otherwise each volume must be "nvidia_driver" and each GPU an index or UUID prefix.
    /// </summary>
    public static bool TryBuild(IGpuHost host, IReadOnlyList<string> volumes, IReadOnlyList<string> gpus,
        [NotNullWhen(true)] out DockerCliArgs? args, [NotNullWhen(false)] out string? error)
    {
        args = null;
        List<HostGpu> chosen;
        if (MeansAll(gpus)) chosen = [.. host.Gpus];
        else if (!GpuSelection.TrySelect(host.Gpus, g => g.Info, gpus, out chosen!, out error)) return false;

        var vols = new List<string>();
        foreach (var name in MeansAll(volumes) ? [DriverVolume.Name] : volumes)
        {
            if (name != DriverVolume.Name) { error = $"invalid volume: {name}"; return false; }
            vols.Add(DriverVolume.VolumeArgument(host.DriverVersion));
        }
        var devices = host.ControlDevices.Concat(chosen.Select(g => g.Node)).Select(d => d.DockerArgument).ToList();
        args = new DockerCliArgs(DriverVolume.PluginName, vols, devices);
        error = null;
        return true;
    }

    static bool MeansAll(IReadOnlyList<string> list) => list.Count == 0 || list is ["*"] or [""];
}

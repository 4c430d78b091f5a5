using System.Text.Json;
using Gantry.Common;
using Gantry.NvidiaDocker;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>Where the docker arguments for the GPUs and the driver volume come from.</summary>
internal interface IGpuArguments
{
    /// <summary>The arguments to put before the image; throws GantryException (CUDA too old, invalid device, …).</summary>
    IReadOnlyList<string> For(ImageLabels labels);
}

// Local GPUs: the control nodes and the chosen GPUs as --device, and the driver volume, which goes through the
// nvidia-docker volume driver unless Docker already has it.
internal sealed class LocalGpuArguments(IGpuHost host, IReadOnlyList<string> gpus, Func<string, bool> volumeExists) : IGpuArguments
{
    public IReadOnlyList<string> For(ImageLabels labels)
    {
        CudaCheck.Ensure(labels.CudaVersion, host.CudaVersion);
        var chosen = host.Gpus;
        if (gpus.Count > 0)
        {
            if (!GpuSelection.TrySelect(host.Gpus, g => g.Info, gpus, out var selected, out var error)) throw new GantryException(error);
            chosen = selected;
        }
        var args = host.ControlDevices.Concat(chosen.Select(g => g.Node)).Select(d => $"--device={d.DockerArgument}").ToList();
        if (labels.Volumes.Contains(DriverVolume.Name))
        {
            if (!volumeExists(DriverVolume.VolumeName(host.DriverVersion))) args.Add($"--volume-driver={DriverVolume.PluginName}");
            args.Add($"--volume={DriverVolume.VolumeArgument(host.DriverVersion)}");
        }
        return args;
    }
}

// GPUs of the host a remote plugin runs on: its CUDA version from /gpu/info/json, its arguments from /docker/cli.
internal sealed class RemoteGpuArguments(Func<string, MiniHttpResponse> get, IReadOnlyList<string> gpus) : IGpuArguments
{
    public IReadOnlyList<string> For(ImageLabels labels)
    {
        var info = Ok(get("/gpu/info/json"));
        string? cuda;
        try
        {
            using var doc = JsonDocument.Parse(info);
            cuda = doc.RootElement.GetProperty("Version").GetProperty("CUDA").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new GantryException($"the plugin's /gpu/info/json is not what nvidia-docker expects: {e.Message}");
        }
        CudaCheck.Ensure(labels.CudaVersion, cuda ?? "");
        static string Join(IEnumerable<string> items) => string.Join("+", items.Select(Uri.EscapeDataString));
        var cli = Ok(get($"/docker/cli?vol={Join(labels.Volumes)}&dev={Join(gpus)}"));
        return cli.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    static string Ok(MiniHttpResponse r) =>
        r.Status == 200 ? r.Body : throw new GantryException(r.Body.Trim() is { Length: > 0 } body ? body : $"the plugin answered HTTP {r.Status}");
}

using Gantry.Discovery;

namespace Gantry.NvidiaDocker;

/// <summary>A device node as Docker's --device takes it: the host path, and the container path it appears at.</summary>
internal readonly record struct DeviceNode(string HostPath, string ContainerPath)
{
    /// <summary>"/dev/nvidia0" on a plain host; "HOST:CONTAINER" when the device root is not "/" (a simulated host).</summary>
    public string DockerArgument => HostPath == ContainerPath ? HostPath : $"{HostPath}:{ContainerPath}";
}

/// <summary>Another GPU this one can reach, and how (null = the driver cannot tell).</summary>
internal sealed record GpuPeer(string BusId, GpuTopologyLevel? Level);

/// <summary>One GPU as the plugin serves it: discovery's facts, NVML's limits, its node, NUMA node and peers.</summary>
internal sealed record HostGpu(GpuInfo Info, GpuDetails Details, DeviceNode Node, uint NumaNode, IReadOnlyList<GpuPeer> Peers);

/// <summary>What the plugin's REST API and the wrapper ask of the host. Status readings must be thread-safe.</summary>
internal interface IGpuHost
{
    string DriverVersion { get; }
    /// <summary>"12.4": the CUDA version the driver supports.</summary>
    string CudaVersion { get; }
    IReadOnlyList<HostGpu> Gpus { get; }
    /// <summary>nvidiactl, nvidia-uvm and, when present, nvidia-uvm-tools.</summary>
    IReadOnlyList<DeviceNode> ControlDevices { get; }
    /// <summary>A live reading; throws when the driver fails to answer.</summary>
    GpuStatus Status(int index);
}

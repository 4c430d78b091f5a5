using Gantry.Discovery;
using Gantry.Edits;

namespace Gantry.Devices;

/// <summary>
/// A kind of device a container can ask for beside its GPUs (an IMEX channel, a gated family such as GDS): how the
/// request is read from the container, and how the devices are found on the host and turned into container edits.
/// Every kind is one entry of <see cref="DeviceKinds"/>; the runtime and the legacy hook read requests through it.
/// </summary>
internal abstract class DeviceKind
{
    /// <summary>Its name: the device class under the just-in-time vendor (runtime.nvidia.com/NAME=ID) and in logs.</summary>
    public abstract string Name { get; }

    /// <summary>The prefix of its requests among the volume mounts under /var/run/nvidia-container-devices (then
    /// not GPU requests), or null when it is not requested that way.</summary>
    public virtual string? VolumeMountPrefix => null;

    /// <summary>Whether csv mode (Tegra) injects it too; jit-cdi always does, cdi mode leaves every kind to the specs.</summary>
    public virtual bool InCsvMode => false;

    /// <summary>The ids the container asks for, in order, without duplicates; empty when it asks for none.</summary>
    public abstract IReadOnlyList<string> Requested(RequestSource source);

    /// <summary>The container edits for the ids, from the device nodes found under the device root. A request this
    /// host cannot meet is a GantryException that names what is missing.</summary>
    public abstract ContainerEdits Edits(IReadOnlyList<string> ids, DeviceNodeLocator nodes);
}

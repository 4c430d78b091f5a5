namespace Gantry.Devices;

/// <summary>
/// Every kind of device a container can ask for beside its GPUs, in the order their edits are applied. A new kind is
/// a class of its own (how it is requested, found and turned into edits) and one line here; a new gated family is one
/// line here.
/// </summary>
internal static class DeviceKinds
{
    /// <summary>The vendor of the devices the runtime makes just in time (runtime.nvidia.com/gpu=0, …/gds=all).</summary>
    public const string JitVendor = "runtime.nvidia.com";

    public static ImexChannelKind ImexChannel { get; } = new();

    public static IReadOnlyList<GatedFamily> GatedFamilies { get; } =
    [
        new("gds", "NVIDIA_GDS", "/dev/nvidia-fs*", n => n.Glob("/dev", "nvidia-fs*"), ["/run/udev", "/etc/cufile.json"]),
        new("mofed", "NVIDIA_MOFED", "/dev/infiniband/uverbs*, /dev/infiniband/rdma_cm",
            n => [.. n.Glob("/dev/infiniband", "uverbs*"), .. n.Existing(["/dev/infiniband/rdma_cm"])]),
        new("gdrcopy", "NVIDIA_GDRCOPY", "/dev/gdrdrv", n => n.Existing(["/dev/gdrdrv"])),
        new("nvswitch", "NVIDIA_NVSWITCH", "/dev/nvidia-nvswitchctl, /dev/nvidia-nvswitch*",
            n => [.. n.Existing(["/dev/nvidia-nvswitchctl"]),
                .. n.Glob("/dev", "nvidia-nvswitch*").Where(p => !p.EndsWith("/nvidia-nvswitchctl", StringComparison.Ordinal))]),
    ];

    public static IReadOnlyList<DeviceKind> All { get; } = [ImexChannel, .. GatedFamilies];

    /// <summary>The kind of that name (a just-in-time CDI class), or null.</summary>
    public static DeviceKind? Find(string name) => All.FirstOrDefault(k => k.Name == name);
}

namespace Gantry.Discovery;

// Narrows an inventory to the driver files NVIDIA_DRIVER_CAPABILITIES asks for, with libnvidia-container's table
// (DriverCapabilities): libraries by name prefix, the utility and compute binaries, the persistenced and fabric
// manager sockets with utility, nvidia-uvm with compute, nvidia-modeset with display, the graphics files (EGL,
// Vulkan, X.Org) with graphics or display, the OpenCL ICD with compute. Firmware and nvidiactl always go in.
// The 32-bit libraries go in with compat32, narrowed like the 64-bit ones.
// Files no capability claims (libnvidia-gtk3, nvidia-imex, …) go in only when every capability is asked for,
// which is what the original's CDI modes inject for any request.
internal static class CapabilityFilter
{
    public const string OpenClIcd = "/etc/OpenCL/vendors/nvidia.icd";

    public static bool IsAll(DriverCapability caps) => (caps & DriverCapability.All) == DriverCapability.All;

    public static bool WantsGraphics(DriverCapability caps) => (caps & (DriverCapability.Graphics | DriverCapability.Display)) != 0;

    public static bool WantsCompute(DriverCapability caps) => (DriverCapabilities.ForLibraries(caps) & DriverCapability.Compute) != 0;

    public static DriverInventory Select(DriverInventory inv, DriverCapability caps)
    {
        if (IsAll(caps)) return inv;
        var libraryCaps = DriverCapabilities.ForLibraries(caps);
        return inv with
        {
            Libraries = inv.Libraries.Where(l => (DriverCapabilities.OfLibrary(Path.GetFileName(l)) & libraryCaps) != 0).ToList(),
            Libraries32 = (caps & DriverCapability.Compat32) == 0 ? []
                : inv.Libraries32.Where(l => (DriverCapabilities.OfLibrary(Path.GetFileName(l)) & libraryCaps) != 0).ToList(),
            Binaries = inv.Binaries.Where(b => (DriverCapabilities.OfBinary(Path.GetFileName(b)) & caps) != 0).ToList(),
            IpcSockets = inv.IpcSockets.Where(s => DriverCapabilities.WantsIpc(s, caps)).ToList(),
            ControlNodes = inv.ControlNodes.Where(n => DriverCapabilities.WantsControlNode(inv.Roots.DevToContainerPath(n), caps)).ToList(),
            Graphics = WantsGraphics(caps) ? inv.Graphics
                : WantsCompute(caps) ? GraphicsFiles.Empty with { Configs = inv.Graphics.Configs.Where(c => c.ContainerPath == OpenClIcd).ToList() }
                : GraphicsFiles.Empty,
        };
    }
}

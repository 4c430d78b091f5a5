using System.Text;
using System.Text.RegularExpressions;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Hooks;

// update-application-profile: tells EGL which GPUs the container has, as a driver application profile keyed on
// the minors of the /dev/nvidiaN nodes present in the container.
internal sealed partial class UpdateApplicationProfileHook : ICdiHook
{
    public const string ProfileDir = "/etc/nvidia/nvidia-application-profiles-rc.d";
    public const string ProfileFile = "10-container.conf";

    public string Name => "update-application-profile";
    public string Summary => "Update the NVIDIA application profile in the container to select the visible GPUs for EGL.";

    public FlagSet DefineFlags() => new FlagSet().WithContainerSpec();

    [GeneratedRegex("^nvidia[0-9]+$")]
    private static partial Regex GpuNode();

    public void Run(FlagSet flags, HookContext context)
    {
        using var root = context.OpenContainerRoot(flags);
        var mask = DeviceMask(root, context.Log);
        if (mask == 0) { context.Log.Debug("no GPU device nodes in the container; no application profile written"); return; }
        try
        {
            using var dir = root.MkdirAll(ProfileDir, 0b101_101_101);
            root.ReplaceFile(dir, ProfileFile, Encoding.UTF8.GetBytes(Profile(mask)), 0b100_100_100, ProfileDir + "/" + ProfileFile);
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to write {ProfileDir}/{ProfileFile} in {root.HostPath}: {e.Message}", e);
        }
    }

    public static string Profile(ulong mask) =>
        "{\"profiles\":[{\"name\":\"_container_\",\"settings\":[\"EGLVisibleDGPUDevices\",0x" + mask.ToString("x") +
        "]}],\"rules\":[{\"pattern\":[],\"profile\":\"_container_\"}]}";

    /// <summary>Bit N set for each char device /dev/nvidiaN with minor N in 0..63.</summary>
    public static ulong DeviceMask(ContainerRoot root, Log log)
    {
        if (!root.TryOpen("/dev", O.Path | O.Directory, out var dev, out _)) return 0;
        using (dev)
        {
            var sys = root.Sys;
            if (sys.ListDirectory(dev!.Value, out var names) < 0) return 0;
            ulong mask = 0;
            foreach (var name in names.Where(n => GpuNode().IsMatch(n)).Order(StringComparer.Ordinal))
            {
                if (sys.Statx(dev.Value, name, At.SymlinkNoFollow, out var st) < 0 || !st.IsCharDevice) continue;
                if (st.RdevMinor > 63) { log.Warning($"Ignoring /dev/{name}: minor {st.RdevMinor} is out of range for the application profile"); continue; }
                mask |= 1UL << (int)st.RdevMinor;
            }
            return mask;
        }
    }
}

using System.Text;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Hooks;

// disable-device-node-modification: if the host driver would create/modify device nodes (ModifyDeviceFiles: 1),
// show the container a copy of /proc/driver/nvidia/params that says 0, bind-mounted read-only over the real one.
internal sealed class DisableDeviceNodeModificationHook : ICdiHook
{
    public const string ParamsPath = "/proc/driver/nvidia/params";

    public string Name => "disable-device-node-modification";
    public string Summary => "Ensure that the /proc/driver/nvidia/params file present in the container does not allow device node modifications.";
    public bool MountsInContainer => true; // a file bound over the container's params

    public FlagSet DefineFlags() => new FlagSet().WithContainerSpec();

    public void Run(FlagSet flags, HookContext context)
    {
        var hostParams = Path.Combine(context.HostProcRoot, "driver/nvidia/params");
        if (!File.Exists(hostParams)) { context.Log.Debug($"{hostParams} does not exist; nothing to do"); return; }
        var modified = Rewrite(File.ReadAllText(hostParams));
        if (modified is null) { context.Log.Debug("device node modification is already disabled"); return; }
        using var root = context.OpenContainerRoot(flags, refuseHostRoot: true);
        try
        {
            Apply(root, Encoding.UTF8.GetBytes(modified));
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to hide {ParamsPath} in {root.HostPath}: {e.Message}", e);
        }
    }

    /// <summary>The params text with "ModifyDeviceFiles: 1" turned to 0; null when there is nothing to change.</summary>
    public static string? Rewrite(string text)
    {
        var lines = text.Split('\n');
        var count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        var sb = new StringBuilder();
        var changed = false;
        for (var i = 0; i < count; i++)
        {
            var line = lines[i];
            if (line == "ModifyDeviceFiles: 0") return null;
            if (line == "ModifyDeviceFiles: 1") { line = "ModifyDeviceFiles: 0"; changed = true; }
            sb.Append(line).Append('\n');
        }
        return changed ? sb.ToString() : null;
    }

    static void Apply(ContainerRoot root, byte[] content)
    {
        using var target = root.Open(ParamsPath, O.Path | O.NoFollow);
        if (!root.Stat(target, ParamsPath).IsRegular) throw new IOException($"{ParamsPath} is not a regular file; refusing to mount over it");
        using var run = root.MkdirAll("/run", 0b111_101_101);
        var name = "nvidia-ctk-hook" + RandomName.Uuid(); // no "/" before the uuid: the original's name, kept
        var tmpfs = ConfinedMounts.MountScratchTmpfs(root, "/run", run, name, content.Length);
        try
        {
            using (var file = root.CreateExclusive(tmpfs, "nvct-params", 0b100_100_100, "/run/" + name + "/nvct-params"))
                root.WriteAll(file, content, "nvct-params");
            using var source = new OwnedFd(root.Sys, SyscallResult.Check(root.Sys.OpenAt(tmpfs.Value, "nvct-params", O.Path | O.NoFollow), "open", "nvct-params"));
            ConfinedMounts.BindReadOnly(root, source, target, ParamsPath, Ms.NoSuid | Ms.NoDev | Ms.NoExec);
        }
        finally
        {
            // The bind keeps the tmpfs alive; the scratch mount point itself is not needed any more.
            ConfinedMounts.RemoveScratch(root.Sys, tmpfs, run, name);
        }
    }
}

using Gantry.Host;

namespace Gantry.LdconfigSandbox;

/// <summary>
/// Where the jail puts the files it binds into a container root when /dev cannot take them: a directory of its own
/// under /run/nvidia-ctk-hook, removed again after ldconfig ran.
/// </summary>
internal static class LdconfigScratch
{
    public const string Parent = "/run/nvidia-ctk-hook";

    /// <summary>Removes the (empty) scratch directory the ldconfig child made, and its parent when that is empty too.</summary>
    public static void Remove(ContainerRoot root, string name)
    {
        if (root.TryOpen(Parent, O.Path | O.Directory | O.NoFollow, out var dir, out _))
            using (dir) root.Sys.UnlinkAt(dir!.Value, name, At.RemoveDir);
        if (root.TryOpen("/run", O.Path | O.Directory | O.NoFollow, out var run, out _))
            using (run) root.Sys.UnlinkAt(run!.Value, Parent["/run/".Length..], At.RemoveDir); // only if empty
    }
}

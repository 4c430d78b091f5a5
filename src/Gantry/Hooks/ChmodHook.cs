using System.Globalization;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Hooks;

// chmod --mode M --path P...: sets the mode of existing paths inside the root whose permission bits differ.
// Deprecated upstream and off by default in generated specs, kept for old specs.
internal sealed class ChmodHook : ICdiHook
{
    public string Name => "chmod";
    public string Summary => "Set the permissions of folders in the container by running chmod. The container root is prefixed to the specified paths.";

    public FlagSet DefineFlags() => new FlagSet()
        .List("path", "Specify a path to apply the specified mode to")
        .String("mode", "Specify the file mode")
        .WithContainerSpec();

    public void Run(FlagSet flags, HookContext context)
    {
        var mode = ParseMode(flags.Get("mode"));
        var paths = flags.GetList("path");
        using var root = context.OpenContainerRoot(flags);
        foreach (var path in paths.Distinct(StringComparer.Ordinal))
            Apply(root, path, mode, context.Log);
    }

    public static int ParseMode(string? text)
    {
        if (string.IsNullOrEmpty(text)) throw new GantryException("a non-empty mode must be specified");
        try
        {
            var mode = Convert.ToInt32(text, 8);
            if (mode is < 0 or > 0xFFF) throw new OverflowException();
            return mode;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new GantryException($"invalid mode \"{text}\": expected an octal file mode such as 755", e);
        }
    }

    public static void Apply(ContainerRoot root, string path, int mode, Log log)
    {
        if (!root.TryOpen(path, O.Path, out var fd, out var errno))
        {
            if (errno is Errno.ENOENT or Errno.ENOTDIR) { log.Debug($"Skipping {path}: it does not exist in the container"); return; }
            throw new GantryException($"failed to open {path} in {root.HostPath}: {Errno.Describe(errno)}");
        }
        using (fd)
        {
            var st = root.Stat(fd!, path);
            if (st.Permissions == mode) return;
            // O_PATH fds refuse fchmod; the fd's magic link names exactly the file resolved above.
            var r = root.Sys.Chmod(fd!.ProcPath, mode);
            if (r == -Errno.EPERM) { log.Debug($"Ignoring EPERM for chmod {path}"); return; }
            if (r < 0) throw new GantryException($"failed to chmod {path} in {root.HostPath} to {Convert.ToString(mode, 8).ToString(CultureInfo.InvariantCulture)}: {Errno.Describe(-r)}");
            log.Debug($"Changed mode of {path} to {Convert.ToString(mode, 8)}");
        }
    }
}

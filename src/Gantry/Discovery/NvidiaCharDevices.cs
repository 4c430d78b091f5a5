using Gantry.Host;

namespace Gantry.Discovery;

// The NVIDIA character devices that exist under the device root: /dev/nvidia* and /dev/nvidia-caps/nvidia-*,
// without the nvidia-fs, NVSwitch and NVLink ones. What /dev/char links are made for (nvidia-ctk system
// create-dev-char-symlinks) and checked against (gantry doctor).
internal static class NvidiaCharDevices
{
    public static List<CharDevice> Existing(HostRoots roots)
    {
        var found = new List<CharDevice>();
        foreach (var (dir, prefix) in new[] { ("/dev", "nvidia"), ("/dev/nvidia-caps", "nvidia-") })
        {
            var hostDir = roots.InDevRoot(dir);
            if (!Directory.Exists(hostDir)) continue;
            foreach (var path in Directory.EnumerateFileSystemEntries(hostDir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                if (name.StartsWith("nvidia-fs", StringComparison.Ordinal) || name.StartsWith("nvidia-nvswitch", StringComparison.Ordinal) ||
                    name.StartsWith("nvidia-nvlink", StringComparison.Ordinal)) continue;
                if (FileStatus.TryLstat(path, out var st) && st.IsCharDevice) found.Add(new CharDevice(path, st.RdevMajor, st.RdevMinor));
            }
        }
        return found;
    }
}

using Gantry.Discovery;
using Gantry.Edits;
using Gantry.Host.Cgroups;
using Gantry.Live;

namespace Gantry.ContainerCli;

// Decides every step of `configure`, in the original's order (nvc_driver_mount, then per GPU, MIG, IMEX):
//   /proc/driver/nvidia as a tmpfs holding copies of params/version/registry (so other GPUs stay hidden),
//   the application-profile tmpfs (graphics), binaries, libraries (+32-bit), library symlinks, CUDA compat
//   libraries, firmware, IPC sockets, driver device nodes, then each GPU's node and procfs directory, MIG
//   capability files and nodes, IMEX channels; a cgroup rule per device node; the ldconfig run.
// Pure: the same inputs give the same plan, which the tests compare with golden files.
internal static class ConfigurePlanner
{
    public const string ProcDriver = "/proc/driver/nvidia";
    public const string AppProfileDir = "/etc/nvidia/nvidia-application-profiles-rc.d";

    static readonly string[] FileOptions = ["ro", "nosuid", "nodev", "bind"];
    static readonly string[] ProcOptions = ["ro", "nosuid", "nodev", "noexec", "bind"];
    static readonly string[] IpcOptions = ["nosuid", "nodev", "noexec", "bind"];
    static readonly string[] TmpfsOptions = ["nosuid", "nodev", "noexec", "mode=0555"];
    static readonly string[] CapsDirOptions = ["nosuid", "noexec", "bind"];

    public static LivePlan Plan(ConfigureInputs i)
    {
        var plan = new LivePlan { BindDevices = !i.NoDevbind };
        var caps = i.Capabilities;
        bool Has(DriverCapability c) => (caps & c) != 0;

        if (i.NativeDriver) Tmpfs(plan, ProcDriver);
        foreach (var (name, content, mode) in i.ProcDriverFiles)
            plan.Files.Add(new LiveFile { ContainerPath = $"{ProcDriver}/{name}", Content = content, Mode = mode });
        if (i.NativeDriver && Has(DriverCapability.Graphics | DriverCapability.Display))
        {
            Tmpfs(plan, AppProfileDir);
            plan.Files.Add(new LiveFile { ContainerPath = AppProfileDir + "/10-container.conf", Content = AppProfile(i.Gpus), Mode = 0b101_101_101 });
        }

        foreach (var b in i.Binaries) Bind(plan, b, i.Layout.BinsDir + "/" + Path.GetFileName(b), FileOptions);
        foreach (var l in i.Libraries) Bind(plan, l, i.Layout.LibsDir + "/" + Path.GetFileName(l), FileOptions);
        if (Has(DriverCapability.Compat32))
            foreach (var l in i.Libraries32) Bind(plan, l, i.Layout.Libs32Dir + "/" + Path.GetFileName(l), FileOptions);
        AddLibrarySymlinks(plan, i);
        if (i.CompatMode == CudaCompatMode.Mount && Has(DriverCapability.Compute | DriverCapability.Video))
            foreach (var c in CudaCompatLibs.ToMount(i.Layout.CompatLibs, i.NvrmVersion))
                plan.ContainerBinds.Add(new LiveContainerBind { Source = c, ContainerPath = i.Layout.LibsDir + "/" + Path.GetFileName(c) });
        foreach (var f in i.Firmware) Bind(plan, f.HostPath, f.ContainerPath, FileOptions);
        foreach (var ipc in i.Ipcs) Bind(plan, ipc.HostPath, ipc.ContainerPath, IpcOptions);
        foreach (var f in i.SamePathFiles) Bind(plan, f.HostPath, f.ContainerPath, FileOptions);
        foreach (var (path, target) in i.Symlinks) plan.Symlinks.Add(new LiveSymlink { Path = path, Target = target });

        foreach (var d in i.ControlDevices) Device(plan, d, i.NoCgroups);
        foreach (var g in i.Gpus)
        {
            Device(plan, g.Node, i.NoCgroups);
            if (g.ProcDirectory is { } dir) Bind(plan, dir.HostPath, dir.ContainerPath, ProcOptions);
        }
        foreach (var f in i.MigProcFiles) Bind(plan, f.HostPath, f.ContainerPath, ProcOptions);
        foreach (var d in i.MigDevices) Device(plan, d, i.NoCgroups);
        if (i.MigDeviceDirectory is { } capsDir) Bind(plan, capsDir.HostPath, capsDir.ContainerPath, CapsDirOptions);
        if (!i.NoCgroups)
            foreach (var (major, minor) in i.MigDirectoryRules) Rule(plan, major, minor);
        foreach (var d in i.ImexChannels) Device(plan, d, i.NoCgroups);

        plan.Ldconfig = Ldconfig(i);
        return plan;
    }

    static void Tmpfs(LivePlan plan, string path) =>
        plan.Mounts.Add(new Mount { HostPath = "tmpfs", ContainerPath = path, Type = "tmpfs", Options = [.. TmpfsOptions] });

    // A later mount at the same place would only hide the earlier one (mig-config and mig-monitor both bind the
    // capabilities directory): keep the first.
    static void Bind(LivePlan plan, string hostPath, string containerPath, string[] options)
    {
        if (plan.Mounts.Exists(m => m.ContainerPath == containerPath)) return;
        plan.Mounts.Add(new Mount { HostPath = hostPath, ContainerPath = containerPath, Options = [.. options] });
    }

    static void Device(LivePlan plan, HostDevice d, bool noCgroups)
    {
        if (plan.DeviceNodes.Exists(n => n.Path == d.ContainerPath)) return;
        plan.DeviceNodes.Add(new DeviceNode
        {
            Path = d.ContainerPath, HostPath = d.HostPath, Type = "c", Major = d.Major, Minor = d.Minor, Permissions = "rw",
        });
        if (!noCgroups) Rule(plan, d.Major, d.Minor);
    }

    static void Rule(LivePlan plan, uint major, uint minor)
    {
        var rule = new DeviceRule('c', major, minor, "rw");
        if (!plan.CgroupRules.Contains(rule)) plan.CgroupRules.Add(rule);
    }

    // The development and indirect-GLX names ldconfig does not make (it only makes SONAME links).
    static void AddLibrarySymlinks(LivePlan plan, ConfigureInputs i)
    {
        var mounted = i.Libraries.Select(l => (i.Layout.LibsDir, Name: Path.GetFileName(l)))
            .Concat((i.Capabilities & DriverCapability.Compat32) != 0 ? i.Libraries32.Select(l => (LibsDir: i.Layout.Libs32Dir, Name: Path.GetFileName(l))) : []);
        foreach (var (dir, name) in mounted)
        {
            var (link, target) = name switch
            {
                _ when name.StartsWith("libcuda.so", StringComparison.Ordinal) => ("libcuda.so", "libcuda.so.1"),
                _ when name.StartsWith("libGLX_nvidia.so", StringComparison.Ordinal) => ("libGLX_indirect.so.0", name),
                _ when name.StartsWith("libnvidia-opticalflow.so", StringComparison.Ordinal) => ("libnvidia-opticalflow.so", "libnvidia-opticalflow.so.1"),
                _ => ("", ""),
            };
            if (link.Length > 0) plan.Symlinks.Add(new LiveSymlink { Path = $"{dir}/{link}", Target = target });
        }
    }

    /// <summary>EGLVisibleDGPUDevices as a bit mask of the selected GPUs' minors.</summary>
    static string AppProfile(IReadOnlyList<SelectedGpu> gpus)
    {
        ulong mask = 0;
        foreach (var g in gpus) if (g.Minor is >= 0 and < 64) mask |= 1UL << g.Minor;
        return "{\"profiles\": [{\"name\": \"_container_\", \"settings\": [\"EGLVisibleDGPUDevices\", 0x" + mask.ToString("x") +
               "]}], \"rules\": [{\"pattern\": [], \"profile\": \"_container_\"}]}\n";
    }

    static LiveLdconfig Ldconfig(ConfigureInputs i)
    {
        var value = i.Ldconfig ?? i.Layout.Ldconfig;
        var ld = new LiveLdconfig
        {
            FromHost = value.StartsWith('@'),
            Path = value.StartsWith('@') ? value[1..] : value,
            Folders = [i.Layout.LibsDir, i.Layout.Libs32Dir, .. i.LdconfigFolders.Where(f => f != i.Layout.LibsDir && f != i.Layout.Libs32Dir)],
        };
        if (i.CompatMode == CudaCompatMode.Ldconfig && (i.Capabilities & (DriverCapability.Compute | DriverCapability.Video)) != 0 &&
            CudaCompatLibs.LdconfigDirectory(i.Layout.CompatLibs, i.NvrmVersion) is { } compatDir)
            ld.Folders.Add(compatDir);
        return ld;
    }
}

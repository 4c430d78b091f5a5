using Gantry.Common;
using Gantry.Devices;
using Gantry.Discovery;
using Gantry.Discovery.Tegra;
using Gantry.Host;

namespace Gantry.ContainerCli;

// Reads what configure will expose from the host, through the same discovery `list` prints: libraries, binaries,
// IPC sockets and firmware from DriverComponents, device nodes with the numbers stat(2) gives under the device
// root, the driver's procfs files, MIG capability files and nodes. Nothing here touches the container.
internal static class ConfigureInputsReader
{
    const uint NvidiaMajor = 195, ControlMinor = 255;
    static readonly string[] ProcDriverFileNames = ["params", "version", "registry"];

    public static ConfigureInputs Read(CliDriver d, ConfigureRequest req, DeviceSelection sel, List<GpuInfo>? migConfig,
        List<GpuInfo>? migMonitor, IReadOnlyList<uint> imexChannels, ContainerLayout layout, Log log)
    {
        if (d.Csv is { } csv) return ReadCsv(d, req, csv, imexChannels, layout);
        var caps = req.Capabilities & ~DriverCapability.Compat32;
        var roots = d.Roots;
        var mig = new MigCaps(roots);
        var inputs = new ConfigureInputs
        {
            NvrmVersion = d.NvrmVersion ?? "",
            Capabilities = req.Capabilities,
            NoCgroups = req.NoCgroups,
            NoDevbind = req.NoDevbind,
            Layout = layout,
            CompatMode = req.CompatMode,
            Ldconfig = req.Ldconfig,
            Libraries = DriverComponents.Libraries(d, caps, lib32: false, log).Select(roots.InDriverRoot).ToList(),
            Libraries32 = req.Compat32 ? DriverComponents.Libraries(d, caps, lib32: true, log).Select(roots.InDriverRoot).ToList() : [],
            Binaries = DriverComponents.Binaries(d, caps, log).Select(roots.InDriverRoot).ToList(),
            Ipcs = DriverComponents.Ipcs(d, caps, req.DriverOptions, log).Select(p => new HostFile(roots.InDriverRoot(p), p)).ToList(),
            Firmware = DriverComponents.Firmwares(d, req.DriverOptions, log)
                .Select(p => new HostFile(roots.InDriverRoot(DriverComponents.Resolve(roots, p) ?? p), p)).ToList(),
            ProcDriverFiles = d.Wsl is null ? ProcDriverFiles(roots, log) : [],
            ControlDevices = DriverComponents.ControlDevices(d, caps).Select(p => Device(roots, p, p == "/dev/nvidiactl")).ToList(),
            Gpus = d.Wsl is null ? sel.Gpus.Select(g => Gpu(roots, g, log)).ToList() : [],
            ImexChannels = imexChannels.Select(id => Imex(roots, id)).ToList(),
        };
        // WSL2: no procfs, no per-GPU nodes; the driver store's files at their own paths once any GPU is selected.
        if (d.Wsl is { } wsl)
            return inputs with
            {
                NativeDriver = false,
                SamePathFiles = sel.Gpus.Count == 0 ? [] : wsl.Components.Select(f => new HostFile(f, roots.ToContainerPath(f))).ToList(),
            };
        return migConfig is null && migMonitor is null ? WithMigDevices(inputs, roots, mig, sel) : WithMigGlobal(inputs, roots, mig, migConfig, migMonitor);
    }

    // A Jetson without NVML: every CSV device node (with a cgroup rule), the libraries, the sym entries' final files
    // and the directories bound read-only at their own paths, the sym entries' links made, and ldconfig also run over
    // the libraries' directories (the image's ld.so.conf need not name them). Nothing else of the native driver.
    static ConfigureInputs ReadCsv(CliDriver d, ConfigureRequest req, CsvHostFiles csv, IReadOnlyList<uint> imexChannels, ContainerLayout layout)
    {
        var roots = d.Roots;
        var files = csv.Files.Concat(csv.Directories).Select(p => new HostFile(roots.InDriverRoot(p), p)).ToList();
        return new ConfigureInputs
        {
            NvrmVersion = "",
            Capabilities = req.Capabilities,
            NoCgroups = req.NoCgroups,
            NoDevbind = req.NoDevbind,
            Layout = layout,
            CompatMode = CudaCompatMode.Disabled,
            Ldconfig = req.Ldconfig,
            NativeDriver = false,
            ControlDevices = csv.Devices.Select(p => Device(roots, p, isControl: false)).ToList(),
            ImexChannels = imexChannels.Select(id => Imex(roots, id)).ToList(),
            SamePathFiles = files,
            Symlinks = csv.Symlinks.Select(s => (s.Path, s.Target)).ToList(),
            LdconfigFolders = csv.Files.Where(f => Glob.Match("lib?*.so*", Path.GetFileName(f))).Select(f => Path.GetDirectoryName(f)!).Distinct().ToList(),
        };
    }

    // The three files the container's /proc/driver/nvidia shows; ModifyDeviceFiles is switched off so that NVML
    // inside the container never tries to create or chmod device nodes.
    static List<(string, string, int)> ProcDriverFiles(HostRoots roots, Log log)
    {
        var files = new List<(string, string, int)>();
        foreach (var name in ProcDriverFileNames)
        {
            var path = roots.InProc("driver/nvidia/" + name);
            if (!File.Exists(path)) { log.Warning($"{path} not found; skipping"); continue; }
            var text = File.ReadAllText(path);
            if (name == "params") text = text.Replace("ModifyDeviceFiles: 1", "ModifyDeviceFiles: 0", StringComparison.Ordinal);
            var mode = FileStatus.TryLstat(path, out var st) ? st.Permissions : 0b100_100_100;
            files.Add((name, text, mode));
        }
        return files;
    }

    static SelectedGpu Gpu(HostRoots roots, GpuInfo g, Log log)
    {
        var node = new HostDevice($"/dev/nvidia{g.Minor}", roots.InDevRoot($"/dev/nvidia{g.Minor}"), NvidiaMajor, (uint)g.Minor);
        // The directory is named with a 32-bit PCI domain on most hosts and a 16-bit one on others: try both.
        foreach (var bus in new[] { g.BusId, g.BusId.Length > 4 ? g.BusId[4..] : g.BusId })
        {
            var dir = roots.InProc("driver/nvidia/gpus/" + bus);
            if (Directory.Exists(dir)) return new SelectedGpu(g.Minor, node, new HostFile(dir, "/proc/driver/nvidia/gpus/" + bus));
        }
        log.Warning($"missing procfs directory for GPU {g.BusId}");
        return new SelectedGpu(g.Minor, node, null);
    }

    /// <summary>A driver device node with the numbers stat(2) gives; nvidiactl is known to be 195:255 and is not stat'ed.</summary>
    static HostDevice Device(HostRoots roots, string path, bool isControl)
    {
        var host = roots.InDevRoot(path);
        if (isControl) return new HostDevice(path, host, NvidiaMajor, ControlMinor);
        if (LinuxSyscalls.Instance.Statx(At.FdCwd, host, 0, out var st) < 0 || !st.IsCharDevice)
            throw new ContainerCliException($"detection error: invalid device node: {host}");
        return new HostDevice(path, host, st.RdevMajor, st.RdevMinor);
    }

    static HostDevice Imex(HostRoots roots, uint id)
    {
        var path = ImexChannelKind.NodePath(id);
        var host = roots.InDevRoot(path);
        if (LinuxSyscalls.Instance.Statx(At.FdCwd, host, 0, out var st) < 0 || !st.IsCharDevice)
            throw new ContainerCliException($"device error: IMEX channel {id}: {host} is not a device node (is the channel created?)");
        return new HostDevice(path, host, st.RdevMajor, st.RdevMinor);
    }

    // Per selected MIG device: its GPU-instance and compute-instance access files, and their capability nodes.
    static ConfigureInputs WithMigDevices(ConfigureInputs inputs, HostRoots roots, MigCaps mig, DeviceSelection sel)
    {
        var files = new List<HostFile>();
        var nodes = new List<HostDevice>();
        var major = CapsMajor(roots);
        foreach (var (parent, m) in sel.Migs)
        {
            var gi = $"{MigCaps.CapabilitiesPath}/gpu{parent.Minor}/mig/gi{m.GpuInstanceId}/access";
            var ci = $"{MigCaps.CapabilitiesPath}/gpu{parent.Minor}/mig/gi{m.GpuInstanceId}/ci{m.ComputeInstanceId}/access";
            foreach (var p in new[] { gi, ci })
            {
                files.Add(new HostFile(roots.InProc(p["/proc/".Length..]), p));
                if (!mig.DevStyle) continue;
                var minor = (uint)mig.CapMinor(p);
                nodes.Add(new HostDevice($"/dev/nvidia-caps/nvidia-cap{minor}", roots.InDevRoot($"/dev/nvidia-caps/nvidia-cap{minor}"), major!.Value, minor));
            }
        }
        return inputs with { MigProcFiles = files, MigDevices = nodes };
    }

    // mig-config / mig-monitor = all: the whole capabilities directory, /dev/nvidia-caps as a directory, and cgroup
    // rules for the config (or monitor) node plus every MIG minor of the GPUs concerned.
    static ConfigureInputs WithMigGlobal(ConfigureInputs inputs, HostRoots roots, MigCaps mig, List<GpuInfo>? config, List<GpuInfo>? monitor)
    {
        if ((config?.Count ?? 0) == 0 && (monitor?.Count ?? 0) == 0) return inputs;
        var files = new List<HostFile> { new(roots.InProc(MigCaps.CapabilitiesPath["/proc/".Length..]), MigCaps.CapabilitiesPath) };
        if (!mig.DevStyle) return inputs with { MigProcFiles = files };
        var major = CapsMajor(roots)!.Value;
        var minors = ProcDriver.MigMinors(roots);
        var rules = new List<(uint, uint)>();
        foreach (var (file, gpus) in new[] { ("config", config), ("monitor", monitor) })
        {
            if (gpus is not { Count: > 0 }) continue;
            rules.Add((major, (uint)mig.CapMinor($"{MigCaps.CapabilitiesPath}/mig/{file}")));
            foreach (var g in gpus)
                foreach (var (key, minor) in minors)
                    if (key.StartsWith($"gpu{g.Minor}/", StringComparison.Ordinal) && !rules.Contains((major, (uint)minor))) rules.Add((major, (uint)minor));
        }
        return inputs with
        {
            MigProcFiles = files,
            MigDeviceDirectory = new HostFile(roots.InDevRoot("/dev/nvidia-caps"), "/dev/nvidia-caps"),
            MigDirectoryRules = rules,
        };
    }

    static uint? CapsMajor(HostRoots roots) =>
        ProcDevices.TryRead(roots, out var majors) && majors.TryGetValue("nvidia-caps", out var m) ? m : null;
}

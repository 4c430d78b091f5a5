using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.Diagnostics;

// The driver as discovery sees it: found, NVML loadable, device nodes that match it, /dev/char links, persistence.
internal static class DriverChecks
{
    public static IEnumerable<Finding> Run(DoctorFacts facts)
    {
        var roots = facts.Setup.Roots;
        if (WslDriver.IsWsl(roots))
        {
            yield return Wsl(roots);
            yield break;
        }
        if (facts.Inventory is not { } inv)
        {
            yield return Finding.Problem("driver", $"no NVIDIA driver under {roots.DriverRoot}",
                $"discovery failed: {facts.DriverError}",
                roots.DriverRoot == "/" ? "apt-get install nvidia-driver" : $"gantry doctor --driver-root=DIR  # the directory the driver is installed in");
            yield break;
        }
        yield return Finding.Ok("driver", $"driver {inv.Version} with {inv.Gpus.Count} GPU(s) under {roots.DriverRoot}");
        yield return Nvml(inv, roots);
        yield return DeviceNodes(facts, inv, roots);
        yield return DevChar(facts, inv, roots);
        yield return inv.IpcSockets.Any(s => s.Contains("nvidia-persistenced", StringComparison.Ordinal))
            ? Finding.Ok("persistenced", "nvidia-persistenced is running (its socket exists)")
            : Finding.Warning("persistenced", "nvidia-persistenced is not running",
                "without the persistence daemon the driver tears the GPUs down when the last client exits, so every container start initialises them again (seconds).",
                "systemctl enable --now nvidia-persistenced");
    }

    // A WSL2 guest has no /dev/nvidia*, kernel module or persistence daemon of its own: its driver is the store
    // Windows mounts, and the one thing to check is that the store's NVML answers.
    static Finding Wsl(HostRoots roots)
    {
        const string fix = "install or repair the NVIDIA driver on Windows (the WSL2 guest gets it from there), then wsl --shutdown";
        WslDriver wsl;
        try { wsl = WslDriver.Find(roots, Log.Silent)!; }
        catch (GantryException e) { return Finding.Problem("driver", "WSL2 guest without an NVIDIA driver store", e.Message, fix); }
        if (!wsl.TryQueryNvml(out var nvml, out var error))
            return Finding.Problem("driver", $"the NVML of the WSL2 driver store {wsl.Store} does not answer",
                $"{error}; containers get the store's files but no GPU answers through them.", fix);
        return Finding.Ok("driver", $"WSL2 guest: driver {nvml.DriverVersion} (CUDA {nvml.CudaVersionText}) from the store {wsl.Store}, " +
                                    $"{nvml.Gpus.Count} GPU(s) behind /dev/dxg");
    }

    static Finding Nvml(DriverInventory inv, HostRoots roots)
    {
        if (inv.GpuSource == "nvml") return Finding.Ok("nvml", $"NVML answers (CUDA {inv.CudaVersion ?? "unknown"})");
        var why = inv.Warnings.FirstOrDefault(w => w.Contains("NVML", StringComparison.Ordinal) || w.Contains("libnvidia-ml", StringComparison.Ordinal))
                  ?? "NVML could not be used";
        return Finding.Problem("nvml", $"NVML cannot be loaded from {roots.DriverRoot}",
            $"{why.Split(';')[0]}; the CDI and jit-cdi routes lose MIG devices and GPU facts, and nvidia-smi in containers fails.",
            "apt-get install --reinstall libnvidia-ml1 && ldconfig  # or reinstall the driver the way it was installed");
    }

    static Finding DeviceNodes(DoctorFacts facts, DriverInventory inv, HostRoots roots)
    {
        if (!ProcDevices.TryRead(roots, out var majors) || !majors.ContainsKey("nvidia-uvm"))
            return Finding.Problem("device-nodes", $"{roots.InProc("devices")} lists no nvidia-uvm major",
                "the nvidia-uvm kernel module is not loaded, so CUDA in containers cannot allocate memory.",
                "nvidia-ctk system create-device-nodes --control-devices --load-kernel-modules" + facts.Setup.RootFlags);
        List<CharDevice> expected;
        try { expected = ControlDevices.For(roots.DevRoot, majors, roots.InProc("devices")).Where(n => !n.Path.EndsWith("nvidia-modeset", StringComparison.Ordinal)).ToList(); }
        catch (GantryException e)
        {
            return Finding.Problem("device-nodes", "the NVIDIA kernel module is not loaded", e.Message,
                "nvidia-ctk system create-device-nodes --control-devices --load-kernel-modules" + facts.Setup.RootFlags);
        }
        var gpuMajor = expected[0].Major;
        expected.AddRange(inv.Gpus.Select(g => new CharDevice(roots.InDevRoot($"/dev/nvidia{g.Minor}"), gpuMajor, (uint)g.Minor)));
        var missing = new List<string>();
        var wrong = new List<string>();
        foreach (var n in expected)
        {
            if (!FileStatus.TryLstat(n.Path, out var st)) { missing.Add(n.Path); continue; }
            if (st.IsCharDevice)
            {
                if (st.RdevMajor != n.Major || st.RdevMinor != n.Minor) wrong.Add($"{n.Path} is {st.RdevMajor}:{st.RdevMinor}, the driver's is {n.Major}:{n.Minor}");
            }
            else if (!(inv.AcceptsPlainDeviceFiles && st.IsRegular)) wrong.Add($"{n.Path} is not a character device");
        }
        if (wrong.Count > 0)
            return Finding.Problem("device-nodes", $"{wrong.Count} device node(s) do not match the driver",
                $"{string.Join("; ", wrong)}, so containers get a node that opens the wrong device or none.",
                $"rm -f {string.Join(' ', wrong.Select(w => w.Split(' ')[0]))} && nvidia-ctk system create-dev-char-symlinks --create-all --create-device-nodes{facts.Setup.RootFlags}");
        if (missing.Count > 0)
            return Finding.Problem("device-nodes", $"{missing.Count} device node(s) missing: {string.Join(", ", missing)}",
                "the driver's udev rules or nvidia-modprobe did not create them, so containers see no GPU (\"no CUDA-capable device is detected\").",
                $"nvidia-ctk system create-dev-char-symlinks --create-all --create-device-nodes{facts.Setup.RootFlags}");
        return Finding.Ok("device-nodes", $"{expected.Count} device nodes match the driver");
    }

    static Finding DevChar(DoctorFacts facts, DriverInventory inv, HostRoots roots)
    {
        var nodes = NvidiaCharDevices.Existing(roots);
        if (nodes.Count == 0)
            return Finding.Ok("dev-char", inv.AcceptsPlainDeviceFiles ? "not checked: the simulated host's device nodes are plain files" : "no NVIDIA character devices to link");
        var dir = facts.Setup.DevCharPath;
        var unlinked = nodes.Where(n => !LinksTo(Path.Combine(dir, $"{n.Major}:{n.Minor}"), n.Path)).ToList();
        if (unlinked.Count == 0) return Finding.Ok("dev-char", $"{nodes.Count} /dev/char links point at the NVIDIA device nodes");
        return Finding.Problem("dev-char", $"{unlinked.Count} of {nodes.Count} NVIDIA device nodes have no link in {dir}",
            "with the systemd cgroup driver, `systemctl daemon-reload` drops GPU access of running --gpus containers (\"Failed to initialize NVML: Unknown Error\") because systemd finds devices through /dev/char.",
            $"nvidia-ctk system create-dev-char-symlinks --dev-char-path={dir}{facts.Setup.RootFlags}") with { Repair = new LinkDevChar(dir, unlinked) };
    }

    static bool LinksTo(string link, string node)
    {
        try
        {
            if (!FileStatus.TryLstat(link, out var st) || !st.IsSymlink) return false;
            var target = File.ResolveLinkTarget(link, returnFinalTarget: true);
            return target is not null && FileStatus.TryLstat(target.FullName, out var a) && FileStatus.TryLstat(node, out var b) && a.SameFileAs(b);
        }
        catch (IOException) { return false; }
    }
}

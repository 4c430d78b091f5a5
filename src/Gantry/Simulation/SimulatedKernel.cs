using Gantry.Common;
using Gantry.Discovery;
using Gantry.Host;

namespace Gantry.Simulation;

// The kernel half of a simulated host: /proc/driver/nvidia, /proc/devices, /sys PCI entries with DRM
// children, and /dev nodes with the real majors and minors (character devices when root, else plain files).
internal static class SimulatedKernel
{
    public const uint NvidiaMajor = 195, UvmMajor = 510, CapsMajor = 235, ImexMajor = 234, DrmMajor = 226;

    public static bool Write(string top, string driverRoot, SimulationOptions o, NvmlSnapshot facts, Log log)
    {
        WriteProc(Path.Combine(top, "proc"), o, facts);
        WriteSys(Path.Combine(top, "sys"), facts);
        var real = o.RealDeviceNodes ?? Environment.UserName == "root";
        return WriteDev(Path.Combine(top, "dev"), o, facts, real, log);
    }

    /// <summary>The PCI bus id as it appears in procfs and sysfs paths: "0000:07:00.0".</summary>
    public static string ShortBusId(string nvmlBusId) =>
        (nvmlBusId.Length == 16 && nvmlBusId.StartsWith("0000", StringComparison.Ordinal) ? nvmlBusId[4..] : nvmlBusId).ToLowerInvariant();

    static void WriteProc(string proc, SimulationOptions o, NvmlSnapshot facts)
    {
        var nv = Path.Combine(proc, "driver/nvidia");
        Write(Path.Combine(nv, "version"),
            $"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {o.DriverVersion}  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n");
        Write(Path.Combine(nv, "params"),
            "ResmanDebugLevel: 4294967295\nRmLogonRC: 1\nModifyDeviceFiles: 1\nDeviceFileUID: 0\nDeviceFileGID: 0\nDeviceFileMode: 438\nEnableGpuFirmware: 18\n");
        foreach (var g in facts.Gpus)
            Write(Path.Combine(nv, "gpus", ShortBusId(g.BusId), "information"),
                $"Model: \t\t {g.Name}\nIRQ:   \t\t {140 + g.Index}\nGPU UUID: \t {g.Uuid}\nVideo BIOS: \t 92.00.45.00.06\nBus Type: \t PCIe\n" +
                $"DMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t {ShortBusId(g.BusId)}\nDevice Minor: \t {g.Minor}\nGPU Excluded:\t No\n");
        Write(Path.Combine(proc, "devices"),
            "Character devices:\n  1 mem\n  4 /dev/vc/0\n  5 /dev/tty\n 10 misc\n" +
            $"{NvidiaMajor} nvidia\n{NvidiaMajor} nvidia-modeset\n{NvidiaMajor} nvidiactl\n{DrmMajor} drm\n" +
            $"{ImexMajor} nvidia-caps-imex-channels\n{CapsMajor} nvidia-caps\n{UvmMajor} nvidia-uvm\n\nBlock devices:\n  7 loop\n  8 sd\n");
        // What `gantry doctor` reads of the kernel: a release with openat2 and the new mount API, the namespaces and
        // seccomp filters the ldconfig sandbox uses (ns entries are links such as mnt:[4026531841], as in procfs).
        Write(Path.Combine(proc, "sys/kernel/osrelease"), "6.1.0-18-amd64\n");
        Write(Path.Combine(proc, "sys/kernel/seccomp/actions_avail"), "kill_process kill_thread trap errno user_notif trace log allow\n");
        Write(Path.Combine(proc, "sys/user/max_user_namespaces"), "63498\n");
        Write(Path.Combine(proc, "self/status"), "Name:\tgantry\nUid:\t0\t0\t0\t0\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n");
        var ns = Path.Combine(proc, "self/ns");
        Directory.CreateDirectory(ns);
        var inode = 4026531835;
        foreach (var name in new[] { "cgroup", "ipc", "mnt", "net", "pid", "user", "uts" })
        {
            var link = Path.Combine(ns, name);
            if (!FileStatus.TryLstat(link, out _)) File.CreateSymbolicLink(link, $"{name}:[{inode++}]");
        }
        var minors = new List<string> { "config 1", "monitor 2" };
        var next = 3;
        foreach (var g in facts.Gpus)
            for (var gi = 0; gi < 15; gi++)
            {
                minors.Add($"gpu{g.Minor}/gi{gi}/access {next++}");
                for (var ci = 0; ci < 8; ci++) minors.Add($"gpu{g.Minor}/gi{gi}/ci{ci}/access {next++}");
            }
        Write(Path.Combine(proc, "driver/nvidia-caps/mig-minors"), string.Join("\n", minors) + "\n");
        if (o.Mig.Count > 0)
        {
            Write(Path.Combine(nv, "capabilities/mig/config"), "DeviceFileMinor: 1\nDeviceFileMode: 256\nDeviceFileModify: 1\n");
            Write(Path.Combine(nv, "capabilities/mig/monitor"), "DeviceFileMinor: 2\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
            foreach (var g in facts.Gpus)
                foreach (var m in g.MigDevices)
                {
                    var (gi, ci) = (MigMinor(minors, g.Minor, m.GpuInstanceId, null), MigMinor(minors, g.Minor, m.GpuInstanceId, m.ComputeInstanceId));
                    Write(Path.Combine(nv, $"capabilities/gpu{g.Minor}/mig/gi{m.GpuInstanceId}/access"), $"DeviceFileMinor: {gi}\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
                    Write(Path.Combine(nv, $"capabilities/gpu{g.Minor}/mig/gi{m.GpuInstanceId}/ci{m.ComputeInstanceId}/access"), $"DeviceFileMinor: {ci}\nDeviceFileMode: 292\nDeviceFileModify: 1\n");
                }
        }
    }

    internal static int MigMinor(List<string> minors, int gpuMinor, int gi, int? ci)
    {
        var key = ci is null ? $"gpu{gpuMinor}/gi{gi}/access " : $"gpu{gpuMinor}/gi{gi}/ci{ci}/access ";
        return int.Parse(minors.First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..]);
    }

    static void WriteSys(string sys, NvmlSnapshot facts)
    {
        foreach (var g in facts.Gpus)
        {
            var dev = Path.Combine(sys, "bus/pci/devices", ShortBusId(g.BusId));
            Write(Path.Combine(dev, "vendor"), "0x10de\n");
            Write(Path.Combine(dev, "class"), "0x030200\n");
            Write(Path.Combine(dev, "device"), "0x20b0\n");
            // Four GPUs per NUMA node, as the simulated PCIe topology (SimulatedTelemetry.Topology) has them.
            Write(Path.Combine(dev, "numa_node"), $"{g.Index / 4}\n");
            Directory.CreateDirectory(Path.Combine(dev, $"drm/card{g.Minor + 1}"));
            Directory.CreateDirectory(Path.Combine(dev, $"drm/renderD{128 + g.Minor}"));
        }
    }

    static bool WriteDev(string dev, SimulationOptions o, NvmlSnapshot facts, bool real, Log log)
    {
        var nodes = new List<(string Path, uint Major, uint Minor)>
        {
            ("nvidiactl", NvidiaMajor, 255), ("nvidia-modeset", NvidiaMajor, 254), ("nvidia-uvm", UvmMajor, 0), ("nvidia-uvm-tools", UvmMajor, 1),
        };
        foreach (var g in facts.Gpus)
        {
            nodes.Add(($"nvidia{g.Minor}", NvidiaMajor, (uint)g.Minor));
            nodes.Add(($"dri/card{g.Minor + 1}", DrmMajor, (uint)g.Minor + 1));
            nodes.Add(($"dri/renderD{128 + g.Minor}", DrmMajor, 128u + (uint)g.Minor));
        }
        if (o.Mig.Count > 0)
        {
            var minorsText = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(dev)!, "proc/driver/nvidia-caps/mig-minors")).ToList();
            nodes.Add(("nvidia-caps/nvidia-cap1", CapsMajor, 1));
            nodes.Add(("nvidia-caps/nvidia-cap2", CapsMajor, 2));
            foreach (var g in facts.Gpus)
                foreach (var m in g.MigDevices)
                {
                    var gi = MigMinor(minorsText, g.Minor, m.GpuInstanceId, null);
                    var ci = MigMinor(minorsText, g.Minor, m.GpuInstanceId, m.ComputeInstanceId);
                    nodes.Add(($"nvidia-caps/nvidia-cap{gi}", CapsMajor, (uint)gi));
                    nodes.Add(($"nvidia-caps/nvidia-cap{ci}", CapsMajor, (uint)ci));
                }
        }
        for (var c = 0; c < o.ImexChannels; c++) nodes.Add(($"nvidia-caps-imex-channels/channel{c}", ImexMajor, (uint)c));
        // Gated families: majors as their drivers register them on a typical host (some are dynamic; any will do).
        if (o.GatedFamilies.Contains("gds")) nodes.AddRange([("nvidia-fs0", 241, 0), ("nvidia-fs1", 241, 1)]);
        if (o.GatedFamilies.Contains("mofed")) nodes.AddRange([("infiniband/uverbs0", 231, 192), ("infiniband/rdma_cm", 10, 58)]);
        if (o.GatedFamilies.Contains("gdrcopy")) nodes.Add(("gdrdrv", 507, 0));
        if (o.GatedFamilies.Contains("nvswitch")) nodes.AddRange([("nvidia-nvswitchctl", 508, 255), ("nvidia-nvswitch0", 508, 0), ("nvidia-nvswitch1", 508, 1)]);

        foreach (var (rel, major, minor) in nodes.DistinctBy(n => n.Path))
        {
            var path = Path.Combine(dev, rel).EnsureParent();
            if (File.Exists(path) || FileStatus.TryLstat(path, out _)) File.Delete(path);
            if (real)
            {
                var errno = FileStatus.MakeCharDevice(path, major, minor, 0b110_110_110);
                if (errno != 0)
                {
                    log.Warning($"mknod {path} failed (errno {errno}); writing plain files for device nodes instead");
                    return WriteDev(dev, o with { RealDeviceNodes = false }, facts, false, log);
                }
                File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
            }
            else File.WriteAllText(path, "");
        }
        foreach (var g in facts.Gpus)
        {
            var byPath = Path.Combine(dev, "dri/by-path").EnsureParent() + "/";
            Directory.CreateDirectory(byPath);
            SimulatedHostWriter.Symlink(byPath + $"pci-{ShortBusId(g.BusId)}-card", $"../card{g.Minor + 1}");
            SimulatedHostWriter.Symlink(byPath + $"pci-{ShortBusId(g.BusId)}-render", $"../renderD{128 + g.Minor}");
        }
        return real;
    }

    static void Write(string path, string content) => File.WriteAllText(path.EnsureParent(), content);
}

namespace Gantry.Host.Cgroups;

/// <summary>
/// cgroup v2: devices are filtered by BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup (the engine's,
/// e.g. runc's). Each attached program is replaced by one that first allows our devices and then runs the
/// original instructions, so every rule the engine wrote still holds. A cgroup with no device program restricts
/// no device, so there is nothing to add.
/// </summary>
internal static class DeviceCgroupV2
{
    public static void Allow(IBpf bpf, int cgroupFd, string cgroupPath, IReadOnlyList<DeviceRule> rules)
    {
        var r = bpf.QueryDevicePrograms(cgroupFd, out var attached);
        if (r < 0) throw Failure($"cannot list the device programs attached to {cgroupPath}", r);
        foreach (var id in attached.Ids) Replace(bpf, cgroupFd, cgroupPath, id, attached.AttachFlags, rules);
    }

    static void Replace(IBpf bpf, int cgroupFd, string cgroupPath, uint id, uint attachFlags, IReadOnlyList<DeviceRule> rules)
    {
        var oldFd = bpf.ProgramFdById(id);
        // As libnvidia-container does: a program a security module keeps from us is left as it is.
        if (oldFd is -Errno.EPERM or -Errno.EACCES) return;
        if (oldFd < 0) throw Failure($"cannot open device program {id} of {cgroupPath}", oldFd);
        try
        {
            var r = bpf.TranslatedInstructions(oldFd, out var old);
            if (r < 0) throw Failure($"cannot read the instructions of device program {id} of {cgroupPath}", r);
            if (DeviceFilterProgram.WhyNotReloadable(old) is { } why)
                throw new DeviceCgroupException($"cannot extend device program {id} of {cgroupPath}: {why}");
            var newFd = bpf.LoadDeviceProgram(DeviceFilterProgram.Prepend(rules, old), out var log);
            if (newFd < 0)
                throw Failure($"the kernel refused the extended device program for {cgroupPath}", newFd, log);
            try { Swap(bpf, cgroupFd, cgroupPath, id, attachFlags, oldFd, newFd); }
            finally { bpf.Close(newFd); }
        }
        finally { bpf.Close(oldFd); }
    }

    // With BPF_F_ALLOW_MULTI, BPF_F_REPLACE swaps exactly the old program in one step. Kernels before 5.6 lack
    // it (EINVAL): attach the new one beside the old, then detach the old. Both run until then and a device is
    // allowed only if all allow it, so no access is granted early. Single-program cgroups: attaching replaces.
    static void Swap(IBpf bpf, int cgroupFd, string cgroupPath, uint id, uint attachFlags, int oldFd, int newFd)
    {
        if ((attachFlags & BpfFlags.AllowMulti) == 0)
        {
            Check(bpf.Attach(cgroupFd, newFd, attachFlags, -1), $"cannot attach the extended device program to {cgroupPath}");
            return;
        }
        var r = bpf.Attach(cgroupFd, newFd, BpfFlags.AllowMulti | BpfFlags.Replace, oldFd);
        if (r == -Errno.ENOENT) throw new DeviceCgroupException(
            $"cannot replace device program {id} of {cgroupPath}: it is not attached directly (a BPF link?) or was replaced meanwhile");
        if (r != -Errno.EINVAL)
        {
            Check(r, $"cannot replace device program {id} of {cgroupPath}");
            return;
        }
        Check(bpf.Attach(cgroupFd, newFd, BpfFlags.AllowMulti, -1), $"cannot attach the extended device program to {cgroupPath}");
        Check(bpf.Detach(cgroupFd, oldFd), $"cannot detach device program {id} from {cgroupPath}");
    }

    static void Check(int result, string what)
    {
        if (result < 0) throw Failure(what, result);
    }

    static DeviceCgroupException Failure(string what, int result, string verifierLog = "")
    {
        var message = $"{what}: {Errno.Describe(-result)}";
        if (verifierLog.Length > 0)
        {
            // The end of the log says why; the start repeats the program.
            var lines = verifierLog.Split('\n');
            message += "; verifier: " + string.Join(" | ", lines[Math.Max(0, lines.Length - 6)..]);
        }
        return new DeviceCgroupException(message);
    }
}

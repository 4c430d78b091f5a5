using System.ComponentModel;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.NvidiaDocker;

// CUDA needs /dev/nvidia-uvm, which exists once the nvidia-uvm module is loaded; nvidia-docker 1.0 ran
// `nvidia-modprobe -u -c=0` before every GPU container. Where the node is already there (a running driver,
// a simulated host) there is nothing to load, so nothing is run.
internal static class UvmModule
{
    public const string Failure = "Could not load UVM kernel module. Is nvidia-modprobe installed?";

    public static void Ensure(HostRoots roots)
    {
        if (Path.Exists(roots.InDevRoot("/dev/nvidia-uvm"))) return;
        var modprobe = ProcessRunner.Which("nvidia-modprobe") ?? throw new GantryException(Failure);
        try
        {
            if (ProcessRunner.Run(modprobe, ["-u", "-c=0"], timeout: TimeSpan.FromSeconds(30)).ExitCode != 0) throw new GantryException(Failure);
        }
        catch (Win32Exception) { throw new GantryException(Failure); }
    }
}

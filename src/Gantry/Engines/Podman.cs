using Gantry.Host;

namespace Gantry.Engines;

// Podman as it runs on these build machines: root, runc, cgroupfs, no network, explicit ulimits, and a
// private storage root so tests and the demo never touch the machine's own images and containers.
internal sealed class Podman(string storageDir)
{
    public static readonly string[] RunFlags =
        ["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

    public static string? Binary => ProcessRunner.Which("podman");

    IEnumerable<string> Global => ["--root", Path.Combine(storageDir, "root"), "--runroot", Path.Combine(storageDir, "run"), "--storage-driver", "vfs"];

    public ProcessResult Import(string tarPath, string image) =>
        ProcessRunner.Run(Binary!, Global.Concat(["import", tarPath, image]));

    /// <summary>`podman run --rm` with the CDI devices given and a shell command.</summary>
    public ProcessResult Run(string image, IEnumerable<string> cdiDevices, string shellCommand, IEnumerable<string>? extraArgs = null) =>
        ProcessRunner.Run(Binary!, Global.Concat(["run", "--rm"]).Concat(RunFlags)
            .Concat(cdiDevices.SelectMany(d => new[] { "--device", d })).Concat(extraArgs ?? [])
            .Concat([image, "sh", "-c", shellCommand]));
}

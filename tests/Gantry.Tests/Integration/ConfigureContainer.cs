using System.Diagnostics;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

/// <summary>A simulated 2-GPU host (GPU 1 with one MIG device) shared by a test class; real device nodes as root.</summary>
public sealed class SimulatedGpuHost : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Root => Dir["host"];

    public SimulatedGpuHost()
    {
        if (TestEnvironment.MissingBinary() is not null || !TestEnvironment.IsRoot) return;
        var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", Root, "--gpus", "2", "--mig", "1:1");
        Assert.True(r.ExitCode == 0, r.Combined);
    }

    public void Dispose() => Dir.Dispose();
}

/// <summary>
/// A created-but-not-started container as configure meets it: a busybox rootfs (in a TestTree, beside a host
/// sentinel) and a process in new mount and PID namespaces whose mount namespace is a private copy of the host's.
/// Inside() looks at the rootfs from that namespace, the way the container will see it.
/// </summary>
internal sealed class ConfigureContainer : IDisposable
{
    readonly Process _unshare;
    public TestTree Tree { get; } = new();
    public string Rootfs => Tree.Root;
    public int Pid { get; }
    readonly string _hostRoot;

    /// <param name="uid">When set, the container process runs as this uid and gid (a user-namespaced container's host ids).</param>
    public ConfigureContainer(SimulatedGpuHost host, bool debian = true, Action<TestTree>? prepare = null, int? uid = null)
        : this(host.Root, debian, prepare, uid) { }

    /// <param name="hostRoot">the driver root configure is pointed at (--root)</param>
    public ConfigureContainer(string hostRoot, bool debian = true, Action<TestTree>? prepare = null, int? uid = null)
    {
        _hostRoot = hostRoot;
        BusyboxImage.BuildTar(Tree.Base);
        if (debian) Tree.WriteFile("/etc/debian_version", "12\n");
        prepare?.Invoke(Tree);
        string[] sleep = uid is { } u ? ["setpriv", $"--reuid={u}", $"--regid={u}", "--clear-groups", "sleep", "300"] : ["sleep", "300"];
        _unshare = Process.Start(new ProcessStartInfo("unshare", ["-m", "-p", "--fork", "--propagation", "private", .. sleep]))!;
        Pid = WaitForChild(_unshare.Id);
    }

    static int WaitForChild(int parent)
    {
        var self = new FileInfo("/proc/self/ns/mnt").LinkTarget;
        for (var i = 0; i < 500; i++)
        {
            var children = File.Exists($"/proc/{parent}/task/{parent}/children") ? File.ReadAllText($"/proc/{parent}/task/{parent}/children").Trim() : "";
            // The child counts once it runs sleep: before its exec, setpriv may not have switched to the uid yet,
            // and configure gives what it makes to the owner of /proc/PID (a race seen under load).
            if (children.Length > 0 && int.TryParse(children.Split(' ')[0], out var pid) &&
                new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget is { } ns && ns != self && Comm(pid) == "sleep")
                return pid;
            Thread.Sleep(10);
        }
        throw new TimeoutException("unshare did not start its child");
    }

    static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
    }

    public static string Cli => Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli");

    /// <summary>nvidia-container-cli --root HOST [globals] configure --pid=PID ARGS ROOTFS.</summary>
    public ProcessResult Configure(params string[] args) => ConfigureWith([], args);

    public ProcessResult ConfigureWith(string[] globals, string[] args, string? rootfs = null) =>
        TestEnvironment.Run(Cli, ["--root", _hostRoot, .. globals, "configure", $"--pid={Pid}", .. args, rootfs ?? Rootfs]);

    /// <summary>The same with extra environment variables for the CLI (which must not pass them on).</summary>
    public ProcessResult ConfigureWithEnvironment(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var psi = new ProcessStartInfo(Cli) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["--root", _hostRoot, "configure", $"--pid={Pid}", .. args, Rootfs]) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ProcessResult(p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Replaces the image's /sbin/ldconfig with a shell script (the image's own ldconfig runs by default).</summary>
    public static void ScriptAsImageLdconfig(TestTree t, string script)
    {
        File.Delete(t.InRoot("/sbin/ldconfig"));
        t.WriteFile("/sbin/ldconfig", "#!/bin/sh\n" + script);
        File.SetUnixFileMode(t.InRoot("/sbin/ldconfig"), (UnixFileMode)0b111_101_101);
    }

    /// <summary>Runs a busybox script chrooted into the rootfs inside the container's mount namespace.</summary>
    public ProcessResult Inside(string script) =>
        TestEnvironment.Run("nsenter", "-t", Pid.ToString(), "-m", "chroot", Rootfs, "/bin/sh", "-c", script);

    /// <summary>The container namespace's mount table lines that concern this test's directory.</summary>
    public List<string> Mounts() =>
        TestEnvironment.Run("nsenter", "-t", Pid.ToString(), "-m", "cat", "/proc/self/mountinfo").Stdout
            .Split('\n').Where(l => l.Contains(Tree.Base, StringComparison.Ordinal)).ToList();

    /// <summary>The mount options field of the mount at a container path ("ro,nosuid,nodev,relatime").</summary>
    public string MountOptions(string containerPath) =>
        Mounts().Select(l => l.Split(' ')).First(f => f[4] == Rootfs + containerPath)[5];

    public void Dispose()
    {
        try { Process.GetProcessById(Pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        _unshare.WaitForExit(5000);
        _unshare.Dispose();
        Tree.Dispose();
    }
}

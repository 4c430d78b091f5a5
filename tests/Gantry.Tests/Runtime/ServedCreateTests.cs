using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

// The served create through the runtime seam alone: a fake that records what the shim would start and wait for,
// so the path is reached without runc, the launcher or a hook client.
public sealed class ServedCreateTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    sealed class RecordingRuntime(string executable, int stopFd) : IRuntimeSyscalls
    {
        public List<(string Path, List<string> Argv)> Spawned { get; } = new();
        public List<int> Waited { get; } = new();
        public List<int> Closed { get; } = new();
        public Queue<int> ExitCodes { get; } = new();
        public int StatDevice(string path, out DeviceNumber device) { device = default; return -Errno.ENOENT; }
        public int Exec(string path, string[] argv) => -Errno.ENOSYS;
        public string? ExecutablePath => executable;
        public string? RealPath(string path) => File.Exists(path) ? Path.GetFullPath(path) : null;
        public int ProcessId => 77;
        public int Spawn(string path, IReadOnlyList<string> argv) { Spawned.Add((path, [.. argv])); return 1000 + Spawned.Count; }
        public int PidfdOpen(int pid) => stopFd;
        public int WaitForExit(int pid) { Waited.Add(pid); return ExitCodes.TryDequeue(out var c) ? c : 0; }
        public void Close(int fd) => Closed.Add(fd);
        public List<int> Killed { get; } = new();
        public int Kill(int pid, int signal) { Killed.Add(pid); return 0; }
        public void Exit(int code) => throw new InvalidOperationException("a served create test never exits the process");
    }

    (RecordingRuntime Os, ServedCreate.Parts Parts) Arrange(int stopFd)
    {
        var exe = _dir.File("bin/gantry");
        File.WriteAllText(exe, "");
        var os = new RecordingRuntime(exe, stopFd);
        var server = HookServer.TryListen(out var whyNot, Path.Combine(_dir.Path, "sockets")) ?? throw new InvalidOperationException(whyNot);
        return (os, new ServedCreate.Parts(server, new ServedHook("nvidia-cdi-hook", ["create-symlinks"], [])));
    }

    static RuntimeLog Quiet() => new(LogLevel.Error, null, null, false);

    [Fact]
    public void The_runtime_starts_through_the_launcher_beside_the_executable_and_the_create_ends_with_its_exit_code()
    {
        using var stop = File.OpenHandle("/dev/null"); // always readable: the runtime "exited" at once
        var (os, parts) = Arrange((int)stop.DangerousGetHandle());
        os.ExitCodes.Enqueue(3);

        var code = ServedCreate.Run("/usr/bin/runc", ["--root", "/r", "create", "--bundle", "/b", "ctr"], parts, os, Quiet());

        Assert.Equal(3, code);
        Assert.Equal(2, os.Spawned.Count);
        var (path, argv) = os.Spawned[0];
        Assert.Equal(Path.Combine(_dir.Path, "bin", ServedCreate.LauncherName), path);
        Assert.Equal(["gantry-runtime-exec", "77", "/usr/bin/runc", "/usr/bin/runc", "--root", "/r", "create", "--bundle", "/b", "ctr"], argv);
        // The guard that deletes the container should the shim die before the hook's work is done, dismissed at the end.
        Assert.Equal(path, os.Spawned[1].Path);
        Assert.Equal(["gantry-runtime-guard", "77", "/usr/bin/runc", "/usr/bin/runc", "--root", "/r", "delete", "--force", "ctr"], os.Spawned[1].Argv);
        Assert.Equal([1002], os.Killed);
        Assert.Equal([1001, 1002], os.Waited);
        Assert.Equal([(int)stop.DangerousGetHandle()], os.Closed);
        Assert.False(File.Exists(parts.Server.SocketPath)); // the socket is gone once the runtime exited
    }

    [Fact]
    public void Without_a_pidfd_the_hook_is_not_served_and_the_runtime_is_still_waited_for()
    {
        var (os, parts) = Arrange(-Errno.ENOSYS);

        Assert.Equal(0, ServedCreate.Run("runc", ["create", "ctr"], parts, os, Quiet()));
        Assert.Single(os.Spawned);
        Assert.Empty(os.Closed);
        Assert.False(File.Exists(parts.Server.SocketPath));
    }

    [Fact]
    public void A_hook_of_this_executable_is_found_through_the_seams_real_path_and_only_then()
    {
        var exe = _dir.File("bin/gantry");
        File.WriteAllText(exe, "");
        var os = new RecordingRuntime(exe, -1);
        var spec = OciSpec.Parse(System.Text.Encoding.UTF8.GetBytes("""{"ociVersion":"1.0.0","hooks":{"createContainer":[{"path":"OTHER","args":["nvidia-cdi-hook","update-ldcache"]},{"path":"SELF","args":["nvidia-cdi-hook","chain","create-symlinks","--link","a::b"]}]}}"""
            .Replace("OTHER", _dir.File("bin/other")).Replace("SELF", Path.Combine(_dir.Path, "bin", ".", "gantry"))), "config.json", allowUnknownFields: false);

        var found = ServedHook.Find(spec, os.ExecutablePath!, os.RealPath);

        Assert.NotNull(found);
        Assert.Equal(["create-symlinks", "--link", "a::b"], found.Value.Hook.Arguments);
        Assert.Null(ServedHook.Find(spec, os.ExecutablePath!, _ => null));
    }

    [Fact]
    public void Whether_a_hook_mounts_is_said_by_the_hook_itself()
    {
        Assert.True(CdiHookCommand.Find("disable-device-node-modification")?.MountsInContainer);
        Assert.False(CdiHookCommand.Find("create-symlinks")?.MountsInContainer);
        Assert.False(CdiHookCommand.Find("update-ldcache")?.MountsInContainer);
    }

    // A shim killed mid-create never disposes its socket: the next served create removes the sockets of shims that
    // are gone (the pid in the name), not those of living ones nor names it does not know.
    [Fact]
    public void Sockets_of_shims_that_are_gone_are_removed_by_the_next_listener()
    {
        var dir = Path.Combine(_dir.Path, "sockets");
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        foreach (var name in new[] { $"{gone.Id}-00112233aabbccdd.sock", $"{Environment.ProcessId}-0011223344556677.sock", "1-8899aabbccddeeff.sock", "other.sock" })
            File.WriteAllText(Path.Combine(dir, name), "");

        using var server = HookServer.TryListen(out var whyNot, dir) ?? throw new InvalidOperationException(whyNot);

        var left = Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.DoesNotContain($"{gone.Id}-00112233aabbccdd.sock", left);
        Assert.Contains($"{Environment.ProcessId}-0011223344556677.sock", left);
        Assert.Contains("1-8899aabbccddeeff.sock", left);
        Assert.Contains("other.sock", left);
        Assert.StartsWith($"{Environment.ProcessId}-", Path.GetFileName(server.SocketPath));
    }
}

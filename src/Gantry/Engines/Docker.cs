using System.Diagnostics;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Engines;

// A private dockerd (and its own containerd) on sockets under one directory, so tests and the benchmark
// never touch the machine's daemons. daemon.json registers runtimes by absolute path; the runtime is started
// by containerd's shim, not dockerd, so it gets no environment from here: give it config through a wrapper
// script (see RuntimeWrapper) or the /etc config file.
internal sealed class Docker : IDisposable
{
    readonly string _dir;
    readonly List<Process> _daemons = new();
    // dockerd's command and environment, to start it again after a restart (containerd keeps running).
    string[] _dockerdCommand = [];
    IReadOnlyDictionary<string, string>? _dockerdEnvironment;
    public string Socket => Path.Combine(_dir, "docker.sock");
    public string ContainerdSocket => Path.Combine(_dir, "containerd.sock");

    public static string? Missing() =>
        ProcessRunner.Which("dockerd") is null ? "dockerd is not installed (apt-get install docker.io)" :
        ProcessRunner.Which("containerd") is null ? "containerd is not installed" : null;

    /// <param name="dockerdEnvironment">
    /// extra variables for dockerd only (a PATH with the hook's dir first, NVIDIA_CTK_CONFIG_FILE_PATH): dockerd looks up
    /// nvidia-container-runtime-hook on its PATH for --gpus and gives the hook its own environment.
    /// </param>
    /// <param name="pluginDir">
    /// When set, the daemons run in a mount namespace of their own where this directory is /run/docker/plugins,
    /// the socket directory dockerd discovers volume plugins in (it offers no option to move it), so a test's
    /// plugin is seen by this dockerd only and the machine's own plugin directory is left alone.
    /// </param>
    /// <param name="devNodesFrom">
    /// When set, the daemons (and so their containers) run in a mount namespace of their own whose /dev is a copy of
    /// the host's with the device nodes under this directory's dev/ added (a simulated host's GPUs): runc in a user
    /// namespace bind-mounts device nodes from the /dev it sees, and the host's own /dev is never touched.
    /// </param>
    public Docker(string dir, IReadOnlyDictionary<string, string> runtimes, IReadOnlyDictionary<string, string>? dockerdEnvironment = null,
        string? pluginDir = null, string? devNodesFrom = null)
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
        var entries = string.Join(",", runtimes.Select(r => $"\"{r.Key}\":{{\"path\":\"{r.Value}\",\"args\":[]}}"));
        // No runtimes given and a daemon.json already in dir (`nvidia-ctk runtime configure` wrote it): use it as is.
        if (runtimes.Count > 0 || !File.Exists(Path.Combine(dir, "daemon.json")))
            File.WriteAllText(Path.Combine(dir, "daemon.json"), $"{{\"runtimes\":{{{entries}}}}}\n");
        // containerd's state in a directory only root may enter, as dockerd's own containerd keeps it
        // (/var/run/docker/containerd): a user-namespaced container's root cannot read its bundle there.
        var state = Path.Combine(dir, "private", "containerd-state");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(Path.GetDirectoryName(state)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string[] containerd = [ProcessRunner.Which("containerd")!, "--root", Path.Combine(dir, "containerd-root"), "--state", state, "--address", ContainerdSocket];
        string[] dockerd = [ProcessRunner.Which("dockerd")!, "--data-root", Path.Combine(dir, "data"), "--exec-root", Path.Combine(dir, "exec"), "--pidfile", Path.Combine(dir, "docker.pid"),
            "-H", "unix://" + Socket, "--iptables=false", "--ip6tables=false", "--bridge=none", "--containerd=" + ContainerdSocket,
            "--config-file", Path.Combine(dir, "daemon.json")];
        _dockerdEnvironment = dockerdEnvironment;
        if (pluginDir is null && devNodesFrom is null)
        {
            Start("containerd", containerd, ContainerdSocket);
            _dockerdCommand = dockerd;
            Start("dockerd", dockerd, Socket, dockerdEnvironment);
            return;
        }
        // containerd must share dockerd's namespace: the shims it starts mount what dockerd prepared.
        var setup = new List<string>();
        if (pluginDir is not null) setup.Add($"mkdir -p /run/docker/plugins && mount --bind '{pluginDir}' /run/docker/plugins");
        if (devNodesFrom is not null) setup.Add(PrivateDev(Path.Combine(devNodesFrom, "dev"), Path.Combine(dir, "dev-stage")));
        var p = Start("containerd", ["unshare", "--mount", "--propagation", "slave", "--", "sh", "-ec",
            string.Join("\n", setup) + "\nexec \"$@\"", "setup", .. containerd], ContainerdSocket);
        _dockerdCommand = ["nsenter", "--target", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--", .. dockerd];
        Start("dockerd", _dockerdCommand, Socket, dockerdEnvironment);
    }

    /// <summary>containerd's process id (its mount namespace is dockerd's and the containers' parent's).</summary>
    public int ContainerdPid => _daemons[0].Id;

    /// <summary>dockerd's process id (behind nsenter when the daemons have a namespace of their own: nsenter execs it).</summary>
    public int DockerdPid => _daemons[^1].Id;

    /// <summary>
    /// Stops dockerd, by SIGTERM (a service restart) or SIGKILL (a crash), and starts it again with the same command
    /// and daemon.json (edit it first to change live-restore); containerd and the containers' shims keep running, as
    /// with a packaged containerd.service. Returns once the new dockerd answers.
    /// </summary>
    public void RestartDockerd(bool kill = false)
    {
        var old = _daemons[^1];
        ProcessRunner.Run("kill", [kill ? "-KILL" : "-TERM", old.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        // Without live-restore dockerd stops every container before it exits (its shutdown timeout: 15 s by default).
        if (!old.WaitForExit(60_000)) throw new GantryException($"dockerd did not exit within 60 s; see {_dir}/dockerd.log");
        old.Dispose();
        _daemons.RemoveAt(_daemons.Count - 1);
        if (File.Exists(Socket)) File.Delete(Socket); // a killed dockerd leaves it; the wait below must see the new one
        Start("dockerd", _dockerdCommand, Socket, _dockerdEnvironment);
        for (var i = 0; i < 300; i++)
        {
            if (Run("version", "--format", "{{.Server.Version}}").ExitCode == 0) return;
            Thread.Sleep(100);
        }
        throw new GantryException($"dockerd did not answer within 30 s of its restart; see {_dir}/dockerd.log");
    }

    // A tmpfs over /dev holding a copy of the host's nodes (the mounts under it, pts, shm, mqueue, bound back) and
    // the nodes of nodes/ (cp -a: the same type, numbers and modes).
    internal static string PrivateDev(string nodes, string stage) => $"""
        mkdir -p '{stage}' && mount --rbind /dev '{stage}'
        mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
        cp -ax '{stage}'/. /dev/
        for m in pts shm mqueue hugepages; do if mountpoint -q '{stage}'/$m; then mount --rbind '{stage}'/$m /dev/$m; fi; done
        umount -l '{stage}' && rmdir '{stage}'
        cp -a '{nodes}'/. /dev/
        """;

    Process Start(string program, string[] command, string socket, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(ProcessRunner.Which(command[0]) ?? command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        // Appended: a restarted dockerd keeps the first one's log.
        var log = File.AppendText(Path.Combine(_dir, program + ".log"));
        log.AutoFlush = true;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _daemons.Add(p);
        for (var i = 0; i < 300 && !File.Exists(socket); i++)
        {
            if (p.HasExited) throw new GantryException($"{program} exited with {p.ExitCode}; see {_dir}/{program}.log");
            Thread.Sleep(100);
        }
        if (!File.Exists(socket)) throw new GantryException($"{program} did not create {socket} within 30 s; see {_dir}/{program}.log");
        return p;
    }

    public ProcessResult Run(params string[] args) =>
        ProcessRunner.Run(ProcessRunner.Which("docker")!, ["-H", "unix://" + Socket, .. args]);

    public void Dispose()
    {
        foreach (var p in Enumerable.Reverse(_daemons))
        {
            try { if (!p.HasExited) { Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(); p.WaitForExit(15000); } }
            catch (InvalidOperationException) { }
            if (!p.HasExited) p.Kill();
            p.Dispose();
        }
        // dockerd leaves its mounts (overlay, netns) behind on a crash; unmount what lies under our directory.
        ProcessRunner.Run("sh", ["-c", $"grep -o ' {_dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l"]);
    }
}

/// <summary>A script that starts the runtime (path must end in a runtime name) with a fixed environment, for engines that start it without theirs.</summary>
internal static class RuntimeWrapper
{
    public static string Write(string path, string runtime, IReadOnlyDictionary<string, string> env)
    {
        var exports = string.Concat(env.Select(e => $"export {e.Key}='{e.Value}'\n"));
        File.WriteAllText(path, $"#!/bin/sh\n{exports}exec '{runtime}' \"$@\"\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }
}

using System.Text;
using Gantry.Common;
using Gantry.Host;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

// native/hook-client against the shim's HookServer in this process, and alone: the greeting with a mount
// namespace, the state, the answer printed and returned; without a server, or told FALLBACK, it runs the hook it
// stands for with the same stdin.
public sealed class HookClientTests : IDisposable
{
    readonly TempDir _dir = new();
    static string Client => Path.Combine(TestEnvironment.BinDir, ServedHook.ClientName);

    public void Dispose() => _dir.Dispose();

    [BinaryFact]
    public void Without_a_server_the_client_runs_the_hook_with_the_same_stdin()
    {
        var r = RunClient(_dir["none.sock"], "{\"state\":1}", "/bin/sh", "sh", "-c", "cat; echo \" $0\"");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("{\"state\":1} sh\n", r.Stdout);
    }

    [BinaryFact]
    public void The_server_gets_the_state_and_a_mount_namespace_and_its_answer_is_the_hooks_exit()
        => WithServer(new HookAnswer(3, "WARNING: something\n"), r =>
        {
            Assert.Equal(3, r.Result.ExitCode);
            Assert.Equal("WARNING: something\n", r.Result.Stderr);
            Assert.Equal("", r.Result.Stdout); // not the fallback hook
            Assert.Equal("{\"id\":\"x\"}", r.State);
            Assert.True(r.WasMountNamespace);
        });

    [BinaryFact]
    public void A_fallback_answer_makes_the_client_run_the_hook_itself()
        => WithServer(null, r =>
        {
            Assert.Equal(0, r.Result.ExitCode);
            Assert.Equal("{\"id\":\"x\"} sh\n", r.Result.Stdout);
        });

    sealed record Served(ProcessResult Result, string? State, bool WasMountNamespace);

    void WithServer(HookAnswer? answer, Action<Served> check)
    {
        var server = HookServer.TryListen(out var whyNot, _dir["sockets"]) ?? throw new InvalidOperationException(whyNot);
        string? state = null;
        var isMountNs = false;
        using (server)
        using (var stop = new EventFdPipe())
        {
            var serving = new Thread(() => server.ServeUntil(stop.ReadFd, (s, ns) =>
            {
                state = Encoding.UTF8.GetString(s);
                isMountNs = NamespaceFd.IsMountNamespace(ns);
                return answer;
            }, new RuntimeLog(LogLevel.Error, null, null, false)));
            serving.Start();
            var r = RunClient(server.SocketPath, "{\"id\":\"x\"}", "/bin/sh", "sh", "-c", "cat; echo \" $0\"");
            stop.Signal();
            serving.Join();
            check(new Served(r, state, isMountNs));
        }
    }

    ProcessResult RunClient(string socket, string stdin, params string[] hook)
    {
        var input = _dir[$"in-{Guid.NewGuid():N}"];
        File.WriteAllText(input, stdin);
        var quoted = string.Join(" ", new[] { Client, socket }.Concat(hook).Select(a => $"'{a}'"));
        var outFile = _dir[$"out-{Guid.NewGuid():N}"];
        var r = ProcessRunner.Run("sh", ["-c", $"{quoted} <'{input}' >'{outFile}.1' 2>'{outFile}.2'"]);
        return new ProcessResult(r.ExitCode, File.ReadAllText(outFile + ".1"), File.ReadAllText(outFile + ".2"));
    }

    // A pipe whose read end becomes readable when signalled: the server's stop condition in place of a pidfd.
    sealed class EventFdPipe : IDisposable
    {
        readonly Microsoft.Win32.SafeHandles.SafeFileHandle _read, _write;
        public EventFdPipe()
        {
            var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
            _write = pipe.SafePipeHandle is var h ? new Microsoft.Win32.SafeHandles.SafeFileHandle(h.DangerousGetHandle(), false) : null!;
            _read = new Microsoft.Win32.SafeHandles.SafeFileHandle(pipe.ClientSafePipeHandle.DangerousGetHandle(), false);
            _pipe = pipe;
        }
        readonly System.IO.Pipes.AnonymousPipeServerStream _pipe;
        public int ReadFd => (int)_read.DangerousGetHandle();
        public void Signal() { _pipe.WriteByte(1); _pipe.Flush(); }
        public void Dispose() => _pipe.Dispose();
    }
}

using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Oci;

namespace Gantry.Runtime;

// The createContainer hook of this binary (after HookMerger, one chain) that the shim runs itself instead of
// runc starting a .NET process for it: the spec names native/hook-client, which hands the hook's state and mount
// namespace to the shim's HookServer and falls back to this very hook when the shim is not there. The work is
// the same code on a thread of the shim that joined the container's mount namespace, with the hook's own
// environment deciding its log level.
internal sealed record ServedHook(string ProgramName, IReadOnlyList<string> Arguments, IReadOnlyList<string> Environment)
{
    public const string ClientName = "gantry-hook-client";
    public const string DisableVariable = "GANTRY_NO_HOOK_SERVER";

    // A served hook sees only these from its environment; a hook entry with anything else runs as a process.
    static readonly string[] KnownVariables = ["NVIDIA_CTK_DEBUG", "NVIDIA_CDI_DEBUG", "NVIDIA_CTK_QUIET", "NVIDIA_CDI_QUIET", HookContext.ProcRootVariable, HookContext.ContainerRootVariable];

    /// <summary>The first hook of this binary under hooks.createContainer, when it can be served; null otherwise.</summary>
    public static (JsonObject Entry, ServedHook Hook)? Find(OciSpec spec, string self, Func<string, string?> realPath)
    {
        if (spec.Root["hooks"]?["createContainer"] is not JsonArray list) return null;
        if (realPath(self) is not { } real) return null;
        foreach (var node in list)
        {
            if (node is not JsonObject h || h["timeout"] is not null || OciSpec.Str(h, "path") is not { } path ||
                !path.StartsWith('/') || realPath(path) != real) continue;
            if (Strings(h["args"]) is not { Count: > 0 } args || Strings(h["env"] ?? new JsonArray()) is not { } env) continue;
            var prefix = System.IO.Path.GetFileName(args[0]) switch
            {
                "nvidia-cdi-hook" => 1,
                "nvidia-ctk" or "gantry" when args.Count > 1 && args[1] == "hook" => 2,
                _ => 0,
            };
            if (prefix == 0 || args.Count <= prefix || args[prefix].StartsWith('-')) continue;
            if (env.Any(e => !KnownVariables.Contains(e.Split('=')[0]))) continue;
            var tail = args[prefix] == ChainHook.VerbName ? args[(prefix + 1)..] : args[prefix..];
            return (h, new ServedHook(System.IO.Path.GetFileName(args[0]), tail, env));
        }
        return null;
    }

    /// <summary>Points the entry at the client beside this executable, the original hook after the socket.</summary>
    public static void Redirect(JsonObject entry, string client, string socket)
    {
        var original = Strings(entry["args"])!;
        var path = OciSpec.Str(entry, "path")!;
        entry["path"] = client;
        entry["args"] = new JsonArray([.. new[] { ClientName, socket, path }.Concat(original).Select(a => (JsonNode)JsonValue.Create(a))]);
    }

    static List<string>? Strings(JsonNode? node) =>
        node is JsonArray a && a.All(x => x?.GetValueKind() == System.Text.Json.JsonValueKind.String) ? a.Select(x => x!.GetValue<string>()).ToList() : null;

    string? Variable(string name) => Environment.LastOrDefault(e => e.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];

    bool Flag(params string[] names) => names.Select(Variable).FirstOrDefault(v => !string.IsNullOrEmpty(v)) is { } v && FlagSet.TryParseBool(v, out var b) && b;

    /// <summary>The level the hook process would log at (its --debug and --quiet come from these variables).</summary>
    public LogLevel Level => Flag("NVIDIA_CTK_QUIET", "NVIDIA_CDI_QUIET") ? LogLevel.Error : Flag("NVIDIA_CTK_DEBUG", "NVIDIA_CDI_DEBUG") ? LogLevel.Debug : LogLevel.Info;

    /// <summary>
    /// Runs the hook as if it were the hook process, in the mount namespace ns with state as its stdin. The hooks
    /// that mount run first, in that namespace; the rest then run in a private copy of it, taken at this moment (the
    /// same files, so what they create lands in the container): once the copy exists the client can be answered and
    /// runc goes on (pivot_root, read-only remounts) while they work. Returns the answer for the client, and the
    /// wait for the rest, which gives what failed, or null.
    /// </summary>
    public (HookAnswer Answer, Func<string?> Remaining) Run(byte[] state, OwnedFd ns, RuntimeLog shimLog, StandbyThread thread)
    {
        var text = new StringWriter();
        var log = new Log(new SplitWriter(text, Level, shimLog), (LogLevel)Math.Max((int)Level, (int)shimLog.Level));
        var parts = ChainHook.Split(Arguments);
        var mounting = parts.Where(Mounts).ToList();
        var files = parts.Where(p => !Mounts(p)).ToList();
        var answered = new ManualResetEventSlim();
        var sent = new ManualResetEventSlim();
        HookAnswer? answer = null;
        string? restFailure = null;
        void Answer(int code, string? extra = null)
        {
            if (answer is not null) return;
            if (extra is not null) text.WriteLine(extra);
            answer = new HookAnswer(code, text.ToString()) { Sent = sent.Set };
            answered.Set();
        }
        var running = thread.Run(() =>
        {
            try
            {
                var sys = LinuxSyscalls.Instance;
                SyscallResult.Check(sys.Unshare(CloneFlags.Fs), "unshare", "CLONE_FS");
                SyscallResult.Check(sys.SetNs(ns.Value, CloneFlags.NewNs), "setns", "the hook's mount namespace");
                FaultPoint.Hit("served-hook-joined");
                var context = new HookContext(log, sys, () => new MemoryStream(state, writable: false),
                    Variable(HookContext.ProcRootVariable) is { Length: > 0 } p ? p : "/proc", "/proc/self/exe") { KeepChildOutput = true, GivenRoot = Variable(HookContext.ContainerRootVariable) };
                var code = RunParts(mounting, context);
                if (code != 0 || files.Count == 0) { Answer(code); return; }
                // Past this point the container's namespace is runc's again; this thread works in its own copy.
                var copied = sys.Unshare(CloneFlags.NewNs) == 0;
                if (copied)
                {
                    Answer(0);
                    // The answer goes out from the server's thread; until it has, this one keeps off the CPU (on
                    // two cores, busy with runc and the engine, it would otherwise delay the answer by milliseconds).
                    sent.Wait(TimeSpan.FromSeconds(1));
                    FaultPoint.Hit("served-hook-answered");
                }
                code = RunParts(files, context);
                if (!copied) Answer(code);
                else if (code != 0) restFailure = $"createContainer hook {ProgramName} {string.Join(' ', files.Select(f => f[0]))} exited with {code}: {text.ToString().Trim()}";
            }
            catch (Exception e) when (e is UsageException or GantryException or IOException)
            {
                var line = e is UsageException ? $"{ProgramName}: incorrect usage: {e.Message}" : $"{ProgramName}: error: {e.Message}";
                if (answer is null) Answer(e is GantryException g ? g.ExitCode : 1, line);
                else restFailure = line;
            }
            finally { Answer(1, $"{ProgramName}: error: the hook stopped without an answer"); }
        });
        answered.Wait();
        return (answer!, () => { running.Join(); return restFailure; });
    }

    static bool Mounts(List<string> part) => CdiHookCommand.Find(part[0])?.MountsInContainer == true;

    int RunParts(List<List<string>> parts, HookContext context) =>
        parts.Count == 0 ? 0 : ChainHook.Run(ProgramName, ChainHook.Join(parts)!, context);

    // The hook's lines at its own level go to its answer (what the hook process would have printed); every line
    // also goes to the shim's log at debug level.
    sealed class SplitWriter(StringWriter answer, LogLevel hookLevel, RuntimeLog shimLog) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => answer.Write(value);
        public override void WriteLine(string? line)
        {
            line ??= "";
            var level = line.StartsWith("DEBUG: ", StringComparison.Ordinal) ? LogLevel.Debug : line.StartsWith("INFO: ", StringComparison.Ordinal) ? LogLevel.Info : LogLevel.Error;
            if (level <= hookLevel) answer.WriteLine(line);
            shimLog.Debug($"hook: {line}");
        }
    }
}

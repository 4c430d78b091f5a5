using System.Text;
using System.Text.Json.Nodes;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

public sealed class HookMergerTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string _self;
    readonly string _ctk;

    public HookMergerTests()
    {
        _self = _dir["gantry"];
        File.WriteAllText(_self, "");
        _ctk = _dir["nvidia-ctk"];
        File.CreateSymbolicLink(_ctk, "gantry");
    }

    static string Hook(string path, string args, string env = "[\"NVIDIA_CTK_DEBUG=false\"]", string extra = "") =>
        $"{{\"path\":\"{path}\",\"args\":[{string.Join(",", args.Split(' ').Select(a => $"\"{a}\""))}],\"env\":{env}{extra}}}";

    (JsonArray Hooks, int Saved) Merge(params string[] hooks)
    {
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes($"{{\"hooks\":{{\"createContainer\":[{string.Join(",", hooks)}]}}}}"), "config.json", false);
        var saved = HookMerger.Merge(spec, _self, LinuxRuntimeSyscalls.Instance.RealPath);
        return ((JsonArray)JsonNode.Parse(spec.Serialize())!["hooks"]!["createContainer"]!, saved);
    }

    static List<string> Args(JsonNode hook) => ((JsonArray)hook["args"]!).Select(a => (string)a!).ToList();

    [Fact]
    public void Consecutive_hooks_of_this_binary_become_one_chain_in_order()
    {
        var (hooks, saved) = Merge(Hook(_ctk, "nvidia-ctk hook create-symlinks --link a::b"), Hook(_ctk, "nvidia-ctk hook update-ldcache --folder /x"),
            Hook(_ctk, "nvidia-ctk hook disable-device-node-modification"));
        Assert.Equal(2, saved);
        var only = Assert.Single(hooks);
        Assert.Equal(_ctk, (string)only!["path"]!);
        Assert.Equal(["nvidia-ctk", "hook", "chain", "create-symlinks", "--link", "a::b", "--then", "update-ldcache", "--folder", "/x", "--then",
            "disable-device-node-modification"], Args(only));
        Assert.Equal("[\"NVIDIA_CTK_DEBUG=false\"]", only["env"]!.ToJsonString());
    }

    [Fact]
    public void Another_binary_a_timeout_or_a_different_env_break_the_run()
    {
        var (hooks, saved) = Merge(Hook(_ctk, "nvidia-ctk hook noop"), Hook("/usr/bin/other", "other x"), Hook(_ctk, "nvidia-ctk hook noop"),
            Hook(_ctk, "nvidia-ctk hook noop", extra: ",\"timeout\":5"), Hook(_ctk, "nvidia-ctk hook noop"), Hook(_ctk, "nvidia-ctk hook noop", "[\"A=1\"]"));
        Assert.Equal(0, saved);
        Assert.Equal(6, hooks.Count);
    }

    [Fact]
    public void The_nvidia_cdi_hook_form_merges_and_foreign_binaries_never_do()
    {
        var cdiHook = _dir["nvidia-cdi-hook"];
        File.CreateSymbolicLink(cdiHook, "gantry");
        var (hooks, _) = Merge(Hook(cdiHook, "nvidia-cdi-hook create-symlinks --link a::b"), Hook(cdiHook, "nvidia-cdi-hook update-ldcache --folder /x"));
        Assert.Equal(["nvidia-cdi-hook", "chain", "create-symlinks", "--link", "a::b", "--then", "update-ldcache", "--folder", "/x"], Args(Assert.Single(hooks)!));
        var foreign = _dir["real-nvidia-cdi-hook"];
        File.WriteAllText(foreign, "");
        Assert.Equal(2, Merge(Hook(foreign, "nvidia-cdi-hook noop"), Hook(foreign, "nvidia-cdi-hook noop")).Hooks.Count);
    }

    [Fact]
    public void Hooks_whose_arguments_hold_the_separator_are_not_merged()
    {
        Assert.Equal(0, Merge(Hook(_ctk, "nvidia-ctk hook noop --then"), Hook(_ctk, "nvidia-ctk hook noop")).Saved);
    }

    public void Dispose() => _dir.Dispose();
}

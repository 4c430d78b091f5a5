using System.Text;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Runtime;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

public sealed class ContainerRootHandoverTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string _self;

    public ContainerRootHandoverTests()
    {
        _self = _dir["gantry"];
        File.WriteAllText(_self, "");
        File.CreateSymbolicLink(_dir["nvidia-cdi-hook"], "gantry");
    }

    OciSpec Spec(bool userns, string root, string env = ",\"env\":[\"NVIDIA_CTK_DEBUG=false\"]") =>
        OciSpec.Parse(Encoding.UTF8.GetBytes(
            "{\"root\":{\"path\":\"" + root + "\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}" + (userns ? ",{\"type\":\"user\"}" : "") + "]}," +
            "\"hooks\":{\"createContainer\":[{\"path\":\"" + _dir["nvidia-cdi-hook"] + "\",\"args\":[\"nvidia-cdi-hook\",\"update-ldcache\"]" + env + "}," +
            "{\"path\":\"/usr/bin/other-hook\",\"args\":[\"other-hook\"]}]}}"), "config.json", false);

    static JsonArray Hooks(OciSpec spec) => (JsonArray)JsonNode.Parse(spec.Serialize())!["hooks"]!["createContainer"]!;

    [Fact]
    public void A_user_namespaced_spec_hands_the_absolute_root_to_the_hooks_of_this_binary_only()
    {
        var spec = Spec(userns: true, root: "rootfs");
        Assert.Equal(1, ContainerRootHandover.Apply(spec, "/bundle", _self, LinuxRuntimeSyscalls.Instance.RealPath));
        var hooks = Hooks(spec);
        Assert.Equal(["NVIDIA_CTK_DEBUG=false", "GANTRY_CONTAINER_ROOT=/bundle/rootfs"], ((JsonArray)hooks[0]!["env"]!).Select(e => (string)e!));
        Assert.Null(hooks[1]!["env"]);
        // Applied twice (a create retried on the same bundle), the variable is not repeated.
        Assert.Equal(0, ContainerRootHandover.Apply(spec, "/bundle", _self, LinuxRuntimeSyscalls.Instance.RealPath));
    }

    [Fact]
    public void A_hook_without_env_gets_one_and_a_spec_without_a_user_namespace_is_left_alone()
    {
        var spec = Spec(userns: true, root: "/r/rootfs", env: "");
        ContainerRootHandover.Apply(spec, "/bundle", _self, LinuxRuntimeSyscalls.Instance.RealPath);
        Assert.Equal(["GANTRY_CONTAINER_ROOT=/r/rootfs"], ((JsonArray)Hooks(spec)[0]!["env"]!).Select(e => (string)e!));
        var plain = Spec(userns: false, root: "/r/rootfs");
        Assert.Equal(0, ContainerRootHandover.Apply(plain, "/bundle", _self, LinuxRuntimeSyscalls.Instance.RealPath));
        Assert.Equal(["NVIDIA_CTK_DEBUG=false"], ((JsonArray)Hooks(plain)[0]!["env"]!).Select(e => (string)e!));
    }

    // The hook side: with the root handed over, a bundle whose config.json cannot be read (the remapped root's view)
    // does not matter; without it, the error is the one the issue saw.
    [Fact]
    public void A_hook_given_the_root_reads_only_its_state()
    {
        var bundle = _dir["bundle"];
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        var state = $$"""{"ociVersion":"1.2.0","id":"c","status":"creating","pid":1,"bundle":"{{bundle}}"}""";
        HookContext Context(string? given) => new(new Log(new StringWriter(), LogLevel.Debug), LinuxSyscalls.Instance,
            () => new MemoryStream(Encoding.UTF8.GetBytes(state)), "/proc", "/proc/self/exe") { GivenRoot = given };
        var flags = new FlagSet().WithContainerSpec();
        flags.Parse([]);
        using (var root = Context(Path.Combine(bundle, "rootfs")).OpenContainerRoot(flags)) Assert.Equal(Path.Combine(bundle, "rootfs"), root.HostPath);
        var e = Assert.Throws<GantryException>(() => Context(null).OpenContainerRoot(flags));
        Assert.Contains("failed to load OCI spec", e.Message);
    }

    public void Dispose() => _dir.Dispose();
}

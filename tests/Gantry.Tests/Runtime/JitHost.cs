using System.Text;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Config;
using Gantry.Discovery;
using Gantry.Host;
using Gantry.Oci;
using Gantry.Requests;
using Gantry.Runtime;
using Gantry.Simulation;
using Gantry.Tests.Support;

namespace Gantry.Tests.Runtime;

/// <summary>
/// A simulated 2-GPU host written in-process (plain files for device nodes, procfs instead of NVML) and the shim's
/// spec modifier pointed at it, so jit-cdi edits can be checked without root or a published binary.
/// </summary>
public sealed class JitHost : IDisposable
{
    internal TempDir Dir { get; } = new();
    internal string Root => Dir["host"];
    public JitHost() : this(new SimulationOptions { GpuCount = 2, WithNvml = false, RealDeviceNodes = false, ImexChannels = 2 }) { }

    internal JitHost(SimulationOptions options) => SimulatedHostWriter.Write(Root, options, Log.Stderr(LogLevel.Error));

    /// <summary>Writes a plain file as a device node of the simulated host (the marker file makes them count).</summary>
    internal void AddNode(string containerPath) => File.WriteAllText(Path.Combine(Root, containerPath.TrimStart('/')).EnsureParent(), "");

    /// <summary>Runs the jit-cdi modifier on a spec with these env entries; returns the modified spec.</summary>
    internal JsonObject Modify(params string[] env) => Modify(new ToolkitConfig(), env);

    internal JsonObject Modify(ToolkitConfig config, params string[] env) => Modify(config, RuntimeMode.JitCdi, env);

    /// <summary>Runs the modifier of <paramref name="mode"/> (jit-cdi or legacy) on a spec with these env entries.</summary>
    internal JsonObject Modify(ToolkitConfig config, RuntimeMode mode, params string[] env)
    {
        config.NvidiaContainerCli.Root = Root;
        config.NvidiaContainerRuntime.CdiSpecDirs = [Dir["no-cdi"]];
        var log = new RuntimeLog(LogLevel.Error, null, null, false);
        var injector = new CdiInjector(config, log, new EditsApplier(new AnyFileIsADevice()), "/usr/bin/nvidia-ctk", (roots, options, l) => DriverDiscovery.Discover(roots, options with { UseNvml = false }, l));
        var envJson = string.Join(",", env.Select(e => JsonValue.Create(e).ToJsonString()));
        var json = "{\"process\":{\"env\":[" + envJson + "]},\"root\":{\"path\":\"rootfs\"}}";
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes(json), "config.json", false);
        new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, mode);
        return (JsonObject)JsonNode.Parse(spec.Serialize())!;
    }

    public void Dispose() => Dir.Dispose();

    sealed class AnyFileIsADevice : IRuntimeSyscalls
    {
        public int StatDevice(string path, out DeviceNumber device)
        {
            device = new DeviceNumber("c", 195, (uint)(path.GetHashCode() & 0xff));
            return File.Exists(path) ? 0 : -2;
        }
        public int Exec(string path, string[] argv) => -38;
    }
}

/// <summary>What a modified spec holds, as plain lists for assertions.</summary>
internal static class SpecView
{
    public static List<string> MountDestinations(JsonObject spec) =>
        (spec["mounts"] as JsonArray ?? []).Select(m => (string)m!["destination"]!).ToList();

    public static List<string> MountedNames(JsonObject spec) => MountDestinations(spec).Select(d => Path.GetFileName(d)).ToList();

    public static List<string> Devices(JsonObject spec) =>
        (spec["linux"]?["devices"] as JsonArray ?? []).Select(d => (string)d!["path"]!).ToList();

    public static List<string> Prestart(JsonObject spec) =>
        (spec["hooks"]?["prestart"] as JsonArray ?? []).Select(h => (string)h!["path"]!).ToList();

    public static List<uint> AdditionalGids(JsonObject spec) =>
        (spec["process"]?["user"]?["additionalGids"] as JsonArray ?? []).Select(g => (uint)g!).ToList();

    public static List<string> Env(JsonObject spec) => ((JsonArray)spec["process"]!["env"]!).Select(e => (string)e!).ToList();

    /// <summary>Every createContainer hook as "name args…" without the binary (merged hooks are split into their parts).</summary>
    public static List<string> Hooks(JsonObject spec) =>
        (spec["hooks"]?["createContainer"] as JsonArray ?? []).Select(h => string.Join(" ", ((JsonArray)h!["args"]!).Skip(2).Select(a => (string)a!))).ToList();
}

using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// The shim in front of real runc and crun: the same exit codes and output shapes as the plain runtime for
// every command, GPUs from a simulated host on create, and bad input refused with the bundle untouched.
public sealed class RuntimeShimTests(ShimHost host) : IClassFixture<ShimHost>
{
    const string ListDevices = "ls /dev > /result";

    [EngineFact("runc")]
    public void The_shim_answers_every_runc_command_like_runc() => SameAsPlain("runc");

    [EngineFact("crun")]
    public void The_shim_answers_every_crun_command_like_crun() => SameAsPlain("crun");

    void SameAsPlain(string runtime)
    {
        var config = host.WriteConfig($"{runtime}.toml", runtime);
        var plain = ProcessRunner.Which(runtime)!;
        var results = new List<string>[2];
        foreach (var (i, exe) in new[] { (0, plain), (1, host.Shim) })
        {
            var bundle = host.Dir[$"{runtime}-{i}"];
            OciBundle.Create(bundle, "echo hello > /result");
            var id = $"same-{runtime}-{i}";
            var r = results[i] = new List<string>();
            var v = host.Run(exe, config, "--version");
            r.Add($"version {v.ExitCode} {v.Stdout.Contains($"{runtime} version")}");
            var c = host.Run(exe, config, "create", "--bundle", bundle, id);
            r.Add($"create {c.ExitCode} {c.Stdout}");
            var state = host.Run(exe, config, "state", id);
            r.Add($"state {state.ExitCode} {Keys(state.Stdout)} {Status(state.Stdout)}");
            r.Add($"start {host.Run(exe, config, "start", id).ExitCode}");
            for (var n = 0; n < 100 && !host.Run(exe, config, "state", id).Stdout.Contains("\"stopped\""); n++) Thread.Sleep(50);
            r.Add($"kill-stopped {host.Run(exe, config, "kill", id, "KILL").ExitCode}");
            r.Add($"delete {host.Run(exe, config, "delete", id).ExitCode}");
            r.Add($"state-gone {host.Run(exe, config, "state", id).ExitCode}");
            var f = host.Run(exe, config, "features");
            r.Add($"features {f.ExitCode} {(f.ExitCode == 0 ? Keys(f.Stdout) : "")}");
            var result = Path.Combine(bundle, "rootfs/result");
            r.Add($"result {(File.Exists(result) ? File.ReadAllText(result).Trim() : "none")}");
        }
        Assert.Equal(results[0], results[1]);
        var shimVersion = host.Run(host.Shim, config, "--version").Stdout;
        Assert.StartsWith($"NVIDIA Container Runtime version {Gantry.Common.VersionInfo.ToolkitVersion}\ncommit: gantry\nspec: 1.3.0\n{Gantry.Common.VersionInfo.GantryLine}\n\n" + runtime + " version", shimVersion);
    }

    // The output's shape: its top-level keys (values such as pids and times differ between runs).
    static string Keys(string json) => Parse(json) is JsonObject o ? string.Join(",", o.Select(kv => kv.Key)) : $"not-json:{json.Length > 0}";
    static string Status(string json) => Parse(json) is JsonObject o ? o["status"]?.ToString() ?? "" : "";

    static JsonNode? Parse(string json)
    {
        try { return JsonNode.Parse(json); } catch (System.Text.Json.JsonException) { return null; }
    }

    [EngineFact("runc")]
    public void A_container_asking_for_gpu_1_gets_dev_nvidia1_and_the_control_nodes_only()
    {
        var bundle = host.Dir["gpu1"];
        OciBundle.Create(bundle, ListDevices + "; env >> /result", ["NVIDIA_VISIBLE_DEVICES=1"]);
        var seen = host.RunContainer(host.Shim, host.Dir["config.toml"], bundle, "gpu1");
        Assert.Contains("nvidia1\n", seen);
        Assert.Contains("nvidiactl\n", seen);
        Assert.Contains("nvidia-uvm\n", seen);
        Assert.DoesNotContain("nvidia0\n", seen);
        Assert.Contains("NVIDIA_VISIBLE_DEVICES=void", seen);
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!;
        Assert.Contains(spec["linux"]!["resources"]!["devices"]!.AsArray(), r => r!["major"]?.GetValue<long>() == 195 && r["minor"]?.GetValue<long>() == 1);
    }

    [EngineFact("runc")]
    public void A_container_without_a_request_is_left_as_the_engine_wrote_it()
    {
        var bundle = host.Dir["plain"];
        OciBundle.Create(bundle, ListDevices);
        var before = File.ReadAllText(Path.Combine(bundle, "config.json"));
        var seen = host.RunContainer(host.Shim, host.Dir["config.toml"], bundle, "plain");
        Assert.DoesNotContain("nvidia", seen);
        Assert.Equal(JsonNode.Parse(before)!.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!.ToJsonString());
    }

    [EngineTheory("runc")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=7", "unknown device id '7'")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0", "unresolvable CDI devices nvidia.com/gpu=0")]
    [InlineData("NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0,vendor.com/x=1", "is not supported when requesting other CDI devices")]
    [InlineData("NVIDIA_REQUIRE_CUDA=cuda>=99.0", "requirement error: unsatisfied condition: cuda>=99.0, please update your driver")]
    [InlineData("NVIDIA_REQUIRE_X=arch>=bogus", "requirement error: invalid expression")]
    [InlineData("NVIDIA_REQUIRE_CUDA=cuda>=abc", "requirement error: invalid expression \"cuda>=abc\": 'abc' is not a version")]
    [InlineData("MALFORMED", "is not valid JSON")]
    [InlineData("MISSING-RUNTIME", "no runtime binary found from candidate list: [no-such-runc]")]
    public void Bad_input_fails_create_with_one_line_and_leaves_the_bundle_untouched(string env, string message)
    {
        var bundle = host.Dir["bad-" + Math.Abs(env.GetHashCode())];
        OciBundle.Create(bundle, ListDevices, env.Contains('=') ? new[] { env, "NVIDIA_VISIBLE_DEVICES=0" }.Distinct().Reverse() : []);
        var specPath = Path.Combine(bundle, "config.json");
        if (env == "MALFORMED") File.WriteAllText(specPath, "{\"ociVersion\": ");
        var config = env == "MISSING-RUNTIME" ? host.WriteConfig("missing.toml", "no-such-runc") : host.Dir["config.toml"];
        var before = File.ReadAllBytes(specPath);
        var r = host.Run(host.Shim, config, "--log", host.Dir["bad.json"], "--log-format", "json", "create", "--bundle", bundle, "bad");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd().Split('\n'));
        Assert.Contains(message, r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(specPath));
        Assert.Equal(["config.json", "rootfs"], Directory.GetFileSystemEntries(bundle).Select(Path.GetFileName).Where(n => n != "busybox.tar").Order());
        var last = JsonNode.Parse(File.ReadAllLines(host.Dir["bad.json"]).Last())!;
        Assert.Equal("error", last["level"]!.GetValue<string>());
        Assert.Contains(message, last["msg"]!.GetValue<string>());
        Assert.NotNull(last["time"]);
    }
}

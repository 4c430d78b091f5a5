using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Tests.Integration;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// The way Docker --gpus and `ctr run --gpus` use configure: as an OCI prestart hook of a real runc container,
// given the container's pid from the state on stdin, before runc pivots into the rootfs. The container then
// checks what it got: nodes, libraries in its own ld cache, and the device cgroup letting GPU 1 through.
public sealed class ConfigureRuncTests(SimulatedGpuHost host) : IClassFixture<SimulatedGpuHost>, IDisposable
{
    readonly TempDir _dir = new();
    readonly string _id = "gantry-cfg-" + global::Gantry.Host.RandomName.Next();

    public void Dispose()
    {
        Runc("delete", "--force", _id);
        _dir.Dispose();
    }

    ProcessResult Runc(params string[] args)
    {
        var output = _dir["out-" + global::Gantry.Host.RandomName.Next()];
        var quoted = string.Join(" ", args.Select(a => $"'{a}'"));
        var r = ProcessRunner.Run("sh", ["-c", $"exec runc --root '{_dir["state"]}' {quoted} >'{output}' 2>&1 </dev/null"], timeout: TimeSpan.FromSeconds(60));
        return r with { Stdout = File.ReadAllText(output) };
    }

    [EngineFact("runc")]
    public void A_prestart_hook_configures_a_runc_container_with_one_gpu()
    {
        var bundle = _dir["bundle"];
        OciBundle.Create(bundle, "ls /dev > /result; echo --- >> /result; nvidia-smi -L >> /result; echo --- >> /result; " +
                                 "cat /dev/nvidia1 >> /result 2>&1; echo --- >> /result; /sbin/ldconfig -p >> /result");
        File.WriteAllText(Path.Combine(bundle, "rootfs/etc/debian_version"), "12\n");
        var cli = ConfigureContainer.Cli;
        var hook = $"pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); exec '{cli}' --root '{host.Root}' configure " +
                   $"--ldconfig=@/sbin/ldconfig --device=1 --compute --utility --pid=$pid '{Path.Combine(bundle, "rootfs")}'";
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!.AsObject();
        config["hooks"] = new JsonObject
        {
            ["prestart"] = new JsonArray(new JsonObject
            {
                ["path"] = "/bin/sh",
                ["args"] = new JsonArray("sh", "-c", hook),
                ["env"] = new JsonArray("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"),
            }),
        };
        File.WriteAllText(Path.Combine(bundle, "config.json"), config.ToJsonString());

        var run = Runc("run", "--bundle", bundle, _id);
        Assert.True(run.ExitCode == 0, run.Stdout);
        var parts = File.ReadAllText(Path.Combine(bundle, "rootfs/result")).Split("---\n");
        var dev = parts[0].Split('\n');
        Assert.Contains("nvidia1", dev);
        Assert.Contains("nvidiactl", dev);
        Assert.DoesNotContain("nvidia0", dev);
        Assert.StartsWith("GPU 1: ", parts[1]);
        Assert.Contains("No such device or address", parts[2]); // past the device cgroup; no driver behind the node here
        Assert.Contains("libcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1", parts[3]);
    }
}

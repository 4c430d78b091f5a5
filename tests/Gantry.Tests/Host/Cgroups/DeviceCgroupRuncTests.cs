using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Host;
using Gantry.Host.Cgroups;
using Gantry.Tests.Support;

namespace Gantry.Tests.Host.Cgroups;

// A container started by real runc (its own device cgroup, default deny list): after Allow on its init pid the
// GPU node 195:1 passes the cgroup check and reaches the (absent) driver, ENXIO, while 195:0 stays EPERM.
public sealed class DeviceCgroupRuncTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly string _id = "gantry-devcg-" + RandomName.Next();
    string State => _dir["state"];
    string Bundle => _dir["bundle"];

    public void Dispose()
    {
        Runc("delete", "--force", _id);
        _dir.Dispose();
    }

    // runc keeps the container's stdio: give it files, not this process's pipes.
    ProcessResult Runc(params string[] args)
    {
        var output = _dir[$"out-{RandomName.Next()}"];
        var quoted = string.Join(" ", args.Select(a => $"'{a}'"));
        var r = ProcessRunner.Run("sh", ["-c", $"exec runc --root '{State}' {quoted} >'{output}' 2>&1 </dev/null"], timeout: TimeSpan.FromSeconds(60));
        return r with { Stdout = File.ReadAllText(output) };
    }

    string CatInside(string node) => Runc("exec", _id, "cat", node).Stdout;

    [EngineFact("runc")]
    public void A_runc_container_gets_the_allowed_gpu_node_and_not_the_other()
    {
        OciBundle.Create(Bundle, "sleep 60");
        var tmp = Path.Combine(Bundle, "rootfs/tmp");
        foreach (var minor in new[] { 0, 1 })
        {
            var node = Path.Combine(tmp, $"nvidia{minor}");
            var mknod = ProcessRunner.Run("mknod", [node, "c", "195", minor.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.True(mknod.ExitCode == 0, mknod.Combined);
        }
        var run = Runc("run", "-d", "--bundle", Bundle, _id);
        Assert.True(run.ExitCode == 0, run.Stdout);
        var pid = JsonNode.Parse(Runc("state", _id).Stdout)!["pid"]!.GetValue<int>();
        Assert.Contains("Operation not permitted", CatInside("/tmp/nvidia1"));

        DeviceCgroup.Allow(pid, [new('c', 195, 1, "rw")]);

        Assert.Contains("No such device or address", CatInside("/tmp/nvidia1")); // past the cgroup, no driver here
        Assert.Contains("Operation not permitted", CatInside("/tmp/nvidia0"));
    }
}

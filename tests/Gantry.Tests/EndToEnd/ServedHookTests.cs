using System.Text.Json.Nodes;
using Gantry.Engines;
using Gantry.Tests.Support;

namespace Gantry.Tests.EndToEnd;

// The shim running the container's hook itself (Runtime/ServedHook, native/hook-client): real runc, a simulated
// host. The spec names the static client; the work (symlinks, ld.so.conf drop-ins, the jailed ldconfig) lands in
// the container as when the hook was its own process, with a writable or a read-only root.
public sealed class ServedHookTests(ShimHost host) : IClassFixture<ShimHost>
{
    // /r is the rootfs bound again read-write, so the script can report from a read-only root too.
    const string Inspect = "head -c 17 /etc/ld.so.cache > /r/result; echo >> /r/result; ls /usr/lib/x86_64-linux-gnu /etc/ld.so.conf.d >> /r/result; ls /run >> /r/result";

    [EngineFact("runc")]
    public void A_gpu_container_gets_its_hook_served_by_the_shim() => ServedFor(readOnlyRoot: false);

    [EngineFact("runc")]
    public void A_read_only_root_gets_the_same_files() => ServedFor(readOnlyRoot: true);

    void ServedFor(bool readOnlyRoot)
    {
        var name = readOnlyRoot ? "served-ro" : "served";
        var bundle = host.Dir[name];
        OciBundle.Create(bundle, Inspect, ["NVIDIA_VISIBLE_DEVICES=0"]);
        var specPath = Path.Combine(bundle, "config.json");
        var original = JsonNode.Parse(File.ReadAllText(specPath))!;
        original["root"]!["readonly"] = readOnlyRoot;
        original["mounts"]!.AsArray().Add(new JsonObject
        {
            ["destination"] = "/r", ["type"] = "bind", ["source"] = Path.Combine(bundle, "rootfs"), ["options"] = new JsonArray("rbind", "rw"),
        });
        File.WriteAllText(specPath, original.ToJsonString());

        var seen = host.RunContainer(host.Shim, host.Dir["config.toml"], bundle, name);

        var hook = JsonNode.Parse(File.ReadAllText(specPath))!["hooks"]!["createContainer"]![0]!;
        Assert.Equal(Path.Combine(TestEnvironment.BinDir, "gantry-hook-client"), hook["path"]!.GetValue<string>());
        var args = hook["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Equal("gantry-hook-client", args[0]);
        Assert.False(File.Exists(args[1]), "the socket is removed once the create is done");
        Assert.Contains("chain", args);
        Assert.StartsWith("glibc-ld.so.cache", seen);
        Assert.Contains("libcuda.so.1\n", seen);
        Assert.Contains("zz-nvcr-", seen);
        Assert.DoesNotContain("nvidia-ctk-hook", seen); // ldconfig's scratch directory is gone
        // The shim made the mount points before runc, as links of one file (MountPointSeeder).
        var smi = Stat(Path.Combine(bundle, "rootfs/usr/bin/nvidia-smi"));
        Assert.True(smi.SameFileAs(Stat(Path.Combine(bundle, "rootfs/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"))));
        Assert.Equal(0UL, smi.Size);
    }

    static Gantry.Host.FileStatus Stat(string path) => Gantry.Host.FileStatus.TryLstat(path, out var st) ? st : throw new FileNotFoundException(path);

    // runc fails after the shim made the mount points: the create fails and the root is as it was.
    [EngineFact("runc")]
    public void A_runtime_failure_takes_the_mount_points_back()
    {
        var bundle = host.Dir["served-runc-fails"];
        OciBundle.Create(bundle, "true", ["NVIDIA_VISIBLE_DEVICES=0"]);
        var specPath = Path.Combine(bundle, "config.json");
        var spec = JsonNode.Parse(File.ReadAllText(specPath))!;
        spec["mounts"]!.AsArray().Add(new JsonObject { ["destination"] = "/data", ["type"] = "bind", ["source"] = Path.Combine(bundle, "no-such-source"), ["options"] = new JsonArray("rbind") });
        File.WriteAllText(specPath, spec.ToJsonString());
        var before = Directory.EnumerateFileSystemEntries(Path.Combine(bundle, "rootfs"), "*", SearchOption.AllDirectories).Order().ToList();

        var c = host.Run(host.Shim, host.Dir["config.toml"], "create", "--bundle", bundle, "served-runc-fails");

        Assert.True(c.ExitCode != 0, c.Combined);
        Assert.Contains("no-such-source", c.Combined);
        var after = Directory.EnumerateFileSystemEntries(Path.Combine(bundle, "rootfs"), "*", SearchOption.AllDirectories).Order().ToList();
        Assert.Equal(before, after);
    }

    // The file work goes on after runc was answered; when it fails, the shim deletes the container runc made and
    // fails the create with the hook's message, as runc does when a hook fails.
    [EngineFact("runc")]
    public void A_failure_after_the_answer_fails_the_create_and_leaves_no_container()
    {
        var bundle = host.Dir["served-fails"];
        OciBundle.Create(bundle, "true", ["NVIDIA_VISIBLE_DEVICES=0"]);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs/etc"));
        File.WriteAllText(Path.Combine(bundle, "rootfs/etc/ld.so.conf.d"), "not a directory\n");

        var c = host.Run(host.Shim, host.Dir["config.toml"], "create", "--bundle", bundle, "served-fails");

        Assert.True(c.ExitCode == 1, c.Combined);
        Assert.Contains("ld.so", c.Stderr);
        var state = host.Run("runc", null, "state", "served-fails");
        Assert.True(state.ExitCode != 0, "the container is gone: " + state.Combined);
        var socket = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!["hooks"]!["createContainer"]![0]!["args"]![1]!.GetValue<string>();
        Assert.False(File.Exists(socket), "the socket is removed");
        Assert.False(File.Exists(Path.Combine(bundle, "rootfs/usr/bin/nvidia-smi")), "the mount points made before runc are taken back");
    }

    [EngineFact("runc")]
    public void Without_the_hook_server_the_spec_names_the_hook_itself()
    {
        var bundle = host.Dir["unserved"];
        OciBundle.Create(bundle, "true", ["NVIDIA_VISIBLE_DEVICES=0"]);
        var config = host.Dir["config.toml"];
        var c = host.RunWith("GANTRY_NO_HOOK_SERVER=1 ", host.Shim, config, "create", "--bundle", bundle, "unserved");
        Assert.True(c.ExitCode == 0, c.Combined);
        try
        {
            var hook = JsonNode.Parse(File.ReadAllText(Path.Combine(bundle, "config.json")))!["hooks"]!["createContainer"]![0]!;
            Assert.Equal(TestEnvironment.NvidiaCtk, hook["path"]!.GetValue<string>());
        }
        finally { host.Run(host.Shim, config, "delete", "--force", "unserved"); }
    }
}

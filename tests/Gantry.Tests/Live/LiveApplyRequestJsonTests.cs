using System.Text;
using Gantry.Edits;
using Gantry.Live;

namespace Gantry.Tests.Live;

// The configure parent hands its plan to the applier child as one hand-written JSON line: every field survives.
public sealed class LiveApplyRequestJsonTests
{
    static LiveApplyRequest Sample() => new()
    {
        Pid = 4242, Standalone = true, Rootfs = "/var/lib/rootfs \"quoted\"", StartTime = ulong.MaxValue - 1, Debug = true,
        Plan = new LivePlan
        {
            Edits = new ContainerEdits
            {
                Mounts =
                [
                    new Mount { HostPath = "", ContainerPath = "/proc/driver/nvidia", Type = "tmpfs", Options = ["nosuid", "mode=0555"] },
                    new Mount { HostPath = "/host/usr/lib/libcuda.so.1", ContainerPath = "/usr/lib/libcuda.so.1", Options = null },
                ],
                DeviceNodes =
                [
                    new DeviceNode { Path = "/dev/nvidia0", HostPath = "/host/dev/nvidia0", Type = "c", Major = 195, Minor = 0, FileMode = 0x21b6, Permissions = "rw", Uid = 7, Gid = 8 },
                    new DeviceNode { Path = "/dev/nvidiactl" },
                ],
            },
            BindDevices = false,
            Files = [new LiveFile { ContainerPath = "/proc/driver/nvidia/params", Content = "a: 1\nb: é\n", Mode = 0b110_100_100 }],
            ContainerBinds = [new LiveContainerBind { Source = "/usr/local/cuda/compat/libcuda.so.570", ContainerPath = "/usr/lib/libcuda.so.570" }],
            Symlinks = [new LiveSymlink { Path = "/usr/lib/libcuda.so", Target = "libcuda.so.1" }],
            Ldconfig = new LiveLdconfig { Path = "/sbin/ldconfig", FromHost = true, Folders = ["/usr/lib", "/usr/lib32"], NoPivot = true },
        },
    };

    [Fact]
    public void Every_field_of_the_request_survives_the_line()
    {
        var line = LiveApplyRequestJson.Write(Sample());
        Assert.DoesNotContain((byte)'\n', line);
        var back = LiveApplyRequestJson.Read(Encoding.UTF8.GetString(line));
        Assert.Equal(Encoding.UTF8.GetString(line), Encoding.UTF8.GetString(LiveApplyRequestJson.Write(back)));
        Assert.Equal((4242, true, "/var/lib/rootfs \"quoted\"", ulong.MaxValue - 1, true), (back.Pid, back.Standalone, back.Rootfs, back.StartTime, back.Debug));
        Assert.Equal(Sample().Plan.Describe(), back.Plan.Describe());
        var node = back.Plan.DeviceNodes[0];
        Assert.Equal((0x21b6u, "rw", 7u, 8u), (node.FileMode!.Value, node.Permissions, node.Uid!.Value, node.Gid!.Value));
        Assert.Null(back.Plan.DeviceNodes[1].Major);
        Assert.Null(back.Plan.Mounts[1].Options);
        Assert.Equal("a: 1\nb: é\n", back.Plan.Files[0].Content);
        Assert.True(back.Plan.Ldconfig!.NoPivot);
    }

    [Fact]
    public void A_plan_without_ldconfig_has_none_after_the_line()
    {
        var r = Sample();
        r.Plan.Ldconfig = null;
        Assert.Null(LiveApplyRequestJson.Read(Encoding.UTF8.GetString(LiveApplyRequestJson.Write(r))).Plan.Ldconfig);
    }
}

using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Cdi;

// Golden files live in tests/fixtures/cdi; found by walking up from the test binary so that no project
// change is needed. A mismatch writes NAME.received next to the golden for review (approval style);
// GANTRY_APPROVE=1 accepts the received text as the new golden.
internal static class Fixtures
{
    public static string Dir { get; } = Find();

    static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "fixtures", "cdi");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures/cdi not found above " + AppContext.BaseDirectory);
    }

    public static string PathOf(string name) => Path.Combine(Dir, name);
    public static string Read(string name) => File.ReadAllText(PathOf(name));

    public static void Verify(string name, string actual)
    {
        var golden = PathOf(name);
        var received = golden + ".received";
        if (Environment.GetEnvironmentVariable("GANTRY_APPROVE") == "1") File.WriteAllText(golden, actual);
        var expected = File.Exists(golden) ? File.ReadAllText(golden) : null;
        if (expected == actual) { File.Delete(received); return; }
        File.WriteAllText(received, actual);
        Assert.Equal(expected, actual);
    }

    // The spec of the original's generate test (§4.7): one GPU, vendor example.com, class device, driver root /tmp/rootfs-1.
    public static Spec GenerateExample()
    {
        const string root = "/tmp/rootfs-1";
        Hook H(params string[] args) => new()
        {
            HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook",
            Args = ["nvidia-cdi-hook", .. args], Env = ["NVIDIA_CTK_DEBUG=false"],
        };
        Mount M(string p) => new() { HostPath = root + p, ContainerPath = p, Options = ["ro", "nosuid", "nodev", "rbind", "rprivate"] };
        return new Spec
        {
            Kind = "example.com/device",
            Devices =
            [
                new Device { Name = "0", ContainerEdits = new() { DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = root + "/dev/nvidia0" }] } },
            ],
            ContainerEdits = new()
            {
                Env = ["NVIDIA_CTK_LIBCUDA_DIR=/lib/x86_64-linux-gnu", "NVIDIA_VISIBLE_DEVICES=void"],
                DeviceNodes = [new() { Path = "/dev/nvidiactl", HostPath = root + "/dev/nvidiactl" }],
                Hooks =
                [
                    H("create-symlinks", "--link", "libcuda.so.1::/lib/x86_64-linux-gnu/libcuda.so"),
                    H("enable-cuda-compat", "--host-driver-version=999.88.77"),
                    H("update-ldcache", "--folder", "/lib/x86_64-linux-gnu", "--folder", "/lib/x86_64-linux-gnu/vdpau"),
                    H("disable-device-node-modification"),
                    H("update-application-profile"),
                ],
                Mounts =
                [
                    M("/lib/x86_64-linux-gnu/vdpau/libvdpau_nvidia.so.999.88.77"),
                    M("/lib/x86_64-linux-gnu/libcuda.so.999.88.77"),
                ],
            },
        };
    }

    // A spec that touches every field, quoting rule and version feature the writer knows.
    public static Spec Representative() => new()
    {
        Kind = "nvidia.com/gpu",
        Annotations = new() { ["gantry.io/host10"] = "yes", ["gantry.io/host"] = "gpu-node-2", ["gantry.io/generator"] = "0" },
        Devices =
        [
            new Device
            {
                Name = "0",
                Annotations = new() { ["gpu.nvidia.com/model"] = "NVIDIA H100: 80GB" },
                ContainerEdits = new()
                {
                    DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/nvidia0", Type = "c", Major = 195, Minor = 0, FileMode = 438, Permissions = "rwm", Uid = 0, Gid = 44 }],
                    AdditionalGids = [44],
                },
            },
            new Device { Name = "GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c", ContainerEdits = new() { DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/nvidia0" }] } },
            new Device
            {
                Name = "MIG-1:2",
                ContainerEdits = new()
                {
                    Env = ["MIG_LABEL=a: b"],
                    DeviceNodes = [new() { Path = "/dev/nvidia-caps/nvidia-cap12", HostPath = "/dev/nvidia-caps/nvidia-cap12" }],
                },
            },
        ],
        ContainerEdits = new()
        {
            Env = ["NVIDIA_VISIBLE_DEVICES=void", "EMPTY_QUOTE=\"x\""],
            DeviceNodes = [new() { Path = "/dev/nvidia-uvm", Minor = 1 }, new() { Path = "/dev/nvidiactl" }],
            Hooks =
            [
                new()
                {
                    HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook", Timeout = 5,
                    Args = ["nvidia-cdi-hook", "create-symlinks", "--link", "../libcuda.so.1::/usr/lib/libcuda.so", "true", "1.5", "- dash", "#hash", "", "a<b>&c"],
                },
            ],
            Mounts =
            [
                new()
                {
                    HostPath = "/run/nvidia-persistenced/socket", ContainerPath = "/run/nvidia-persistenced/socket",
                    Options = ["nosuid", "nodev", "rbind", "rprivate", "noexec"], Type = "bind",
                },
            ],
        },
    };
}

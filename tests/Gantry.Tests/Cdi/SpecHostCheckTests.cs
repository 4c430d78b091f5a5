using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Cdi;

// Issue 17, part 2: a spec that no longer describes the host is said to be stale, naming it, the cause and the fix.
public sealed class SpecHostCheckTests
{
    static ContainerEdits Edits(params string[] libraries) => new()
    {
        Mounts = libraries.Select(l => new Mount { HostPath = l, ContainerPath = l, Options = ["ro", "nosuid", "nodev", "rbind"] }).ToList(),
        DeviceNodes = [new DeviceNode { Path = "/dev/nvidia0" }],
        Hooks = [new Hook { HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook" }],
    };

    static readonly ContainerEdits Current = Edits("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15");

    [Fact]
    public void A_spec_whose_files_exist_and_whose_driver_runs_matches()
    {
        Assert.Null(SpecHostCheck.Problem("/etc/cdi/nvidia.yaml", [Current], "550.54.15", _ => true));
        Assert.Null(SpecHostCheck.Problem("/etc/cdi/nvidia.yaml", [Current], null, _ => true));
    }

    [Fact]
    public void A_missing_library_names_the_spec_the_file_and_the_fix()
    {
        var p = SpecHostCheck.Problem("/etc/cdi/nvidia.yaml", [Current], "550.54.15", path => !path.Contains("libcuda"));
        Assert.Equal("CDI spec /etc/cdi/nvidia.yaml no longer matches this host: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15 does not exist; " +
                     "regenerate it with 'nvidia-ctk cdi refresh --output=/etc/cdi/nvidia.yaml' (or 'nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml')", p);
    }

    [Fact]
    public void Another_running_driver_is_named_even_when_the_old_files_are_still_there()
    {
        var p = SpecHostCheck.Problem("/var/run/cdi/nvidia.yaml", [Current], "560.35.03", _ => true);
        Assert.Contains("it was made for driver 550.54.15 and driver 560.35.03 is running", p);
    }

    [Fact]
    public void Missing_device_nodes_and_hooks_count_and_other_mount_types_do_not()
    {
        var edits = new ContainerEdits
        {
            DeviceNodes = [new DeviceNode { Path = "/dev/nvidia-caps/nvidia-cap21", HostPath = "/host/dev/nvidia-caps/nvidia-cap21" }],
            Mounts = [new Mount { HostPath = "tmpfs", ContainerPath = "/run/x", Type = "tmpfs" }],
        };
        var p = SpecHostCheck.Problem("s.yaml", [edits], null, _ => false);
        Assert.Contains("/host/dev/nvidia-caps/nvidia-cap21 does not exist;", p);
        Assert.Null(SpecHostCheck.Problem("s.yaml", [new ContainerEdits { Mounts = edits.Mounts }], null, _ => false));
        Assert.Contains("nor 3 more", SpecHostCheck.Problem("s.yaml", [Current], null, _ => false));
    }
}

using Gantry.Cdi;
using Gantry.Edits;

namespace Gantry.Tests.Cdi;

public class SpecValidatorTests
{
    static Spec Valid() => new()
    {
        CdiVersion = "0.5.0",
        Kind = "nvidia.com/gpu",
        Devices =
        [
            new() { Name = "0", ContainerEdits = new() { DeviceNodes = [new() { Path = "/dev/nvidia0", HostPath = "/dev/nvidia0" }] } },
            new() { Name = "all", ContainerEdits = new() { DeviceNodes = [new() { Path = "/dev/nvidia0" }] } },
        ],
        ContainerEdits = new()
        {
            Env = ["A=1"],
            Hooks = [new() { HookName = "createContainer", Path = "/usr/bin/nvidia-cdi-hook", Args = ["x"] }],
            Mounts = [new() { HostPath = "/lib/a", ContainerPath = "/lib/a" }],
        },
    };

    [Fact]
    public void A_valid_spec_has_no_problems() => Assert.Empty(SpecValidator.Validate(Valid()));

    public static TheoryData<string, string, string> Cases => new()
    {
        { "no version", "cdiVersion", "must be set" },
        { "unknown version", "cdiVersion", "unsupported version \"0.9.0\"" },
        { "version too low", "cdiVersion", "the content needs at least 0.5.0, but the spec declares 0.3.0" },
        { "kind without slash", "kind", "is not of the form vendor/class" },
        { "vendor starting with digit", "kind", "invalid vendor \"1nvidia.com\": must start with a letter" },
        { "class with bad char", "kind", "invalid class \"g+pu\": invalid character '+'" },
        { "no devices", "devices", "at least one device is required" },
        { "bad device name", "devices[1].name", "invalid device name \"-all\": must start with a letter or digit" },
        { "duplicate name", "devices[1].name", "duplicate device name \"0\" (also devices[0])" },
        { "device without edits", "devices[1].containerEdits", "a device must have at least one edit" },
        { "relative node path", "devices[1].containerEdits.deviceNodes[0].path", "must be absolute" },
        { "bad node type", "devices[1].containerEdits.deviceNodes[0].type", "invalid device type \"x\" (b, c, u or p)" },
        { "bad permissions", "devices[1].containerEdits.deviceNodes[0].permissions", "invalid permissions \"rwx\" (any of r, w, m)" },
        { "mount without host path", "containerEdits.mounts[0].hostPath", "must be set" },
        { "mount without container path", "containerEdits.mounts[0].containerPath", "must be set" },
        { "unknown hook", "containerEdits.hooks[0].hookName", "unknown hook \"preStart\"" },
        { "relative hook path", "containerEdits.hooks[0].path", "must be absolute" },
        { "zero timeout", "containerEdits.hooks[0].timeout", "must be greater than zero" },
        { "hook env without =", "containerEdits.hooks[0].env[0]", "\"DEBUG\" is not of the form NAME=VALUE" },
        { "env without =", "containerEdits.env[0]", "\"A\" is not of the form NAME=VALUE" },
        { "env with empty name", "containerEdits.env[0]", "\"=1\" has an empty name" },
    };

    static Spec Break(string what)
    {
        var s = Valid();
        var dev = s.Devices[1];
        var common = s.ContainerEdits!;
        switch (what)
        {
            case "no version": s.CdiVersion = ""; break;
            case "unknown version": s.CdiVersion = "0.9.0"; break;
            case "version too low": s.CdiVersion = "0.3.0"; break;
            case "kind without slash": s.Kind = "nvidia.com"; break;
            case "vendor starting with digit": s.Kind = "1nvidia.com/gpu"; break;
            case "class with bad char": s.Kind = "nvidia.com/g+pu"; break;
            case "no devices": s.Devices.Clear(); break;
            case "bad device name": dev.Name = "-all"; break;
            case "duplicate name": dev.Name = "0"; break;
            case "device without edits": dev.ContainerEdits = new(); break;
            case "relative node path": dev.ContainerEdits.DeviceNodes![0].Path = "dev/nvidia0"; break;
            case "bad node type": dev.ContainerEdits.DeviceNodes![0].Type = "x"; break;
            case "bad permissions": dev.ContainerEdits.DeviceNodes![0].Permissions = "rwx"; break;
            case "mount without host path": common.Mounts![0].HostPath = ""; break;
            case "mount without container path": common.Mounts![0].ContainerPath = ""; break;
            case "unknown hook": common.Hooks![0].HookName = "preStart"; break;
            case "relative hook path": common.Hooks![0].Path = "nvidia-cdi-hook"; break;
            case "zero timeout": common.Hooks![0].Timeout = 0; break;
            case "hook env without =": common.Hooks![0].Env = ["DEBUG"]; break;
            case "env without =": common.Env = ["A"]; break;
            case "env with empty name": common.Env = ["=1"]; break;
            default: throw new ArgumentException(what);
        }
        return s;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_problem_is_reported_with_its_location(string what, string location, string message)
    {
        var problems = SpecValidator.Validate(Break(what));
        var p = Assert.Single(problems);
        Assert.Equal(location, p.Location);
        Assert.Contains(message, p.Message);
    }

    [Fact]
    public void All_problems_are_collected_not_just_the_first()
    {
        var s = Break("unknown hook");
        s.Kind = "bad";
        s.Devices[0].ContainerEdits.DeviceNodes![0].Path = "x";
        Assert.Equal(["kind", "devices[0].containerEdits.deviceNodes[0].path", "containerEdits.hooks[0].hookName"],
            SpecValidator.Validate(s).Select(p => p.Location));
    }

    [Fact]
    public void A_problem_prints_as_location_colon_message() =>
        Assert.Equal("devices[2].containerEdits.deviceNodes[0].path: must be absolute",
            new SpecProblem("devices[2].containerEdits.deviceNodes[0].path", "must be absolute").ToString());
}

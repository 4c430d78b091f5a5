using System.Text;
using Gantry.Common;
using Gantry.RuntimeHook;

namespace Gantry.Tests.RuntimeHook;

public sealed class PrestartSpecTests
{
    static PrestartSpec Parse(string json) => PrestartSpec.Parse(Encoding.UTF8.GetBytes(json), "/b/config.json");

    [Theory]
    [InlineData("""{"ociVersion":"1.0.2","process":{"capabilities":{"bounding":["CAP_SYS_ADMIN"]}},"root":{"path":"r"}}""", true)]
    [InlineData("""{"ociVersion":"1.0.2","process":{"capabilities":{"effective":["CAP_SYS_ADMIN"]}},"root":{"path":"r"}}""", false)]
    [InlineData("""{"ociVersion":"1.0.2","process":{},"root":{"path":"r"}}""", false)]
    [InlineData("""{"ociVersion":"1.0.0-rc2-dev","process":{"capabilities":["CAP_SYS_ADMIN"]},"root":{"path":"r"}}""", true)]
    [InlineData("""{"ociVersion":"1.0.0-rc5","process":{"capabilities":{"bounding":["CAP_CHOWN"]}},"root":{"path":"r"}}""", false)]
    public void Privileged_means_cap_sys_admin_in_the_bounding_set_or_the_old_flat_list(string json, bool privileged) =>
        Assert.Equal(privileged, Parse(json).Facts.Privileged);

    [Theory]
    [InlineData("""{"process":{},"root":{"path":"r"}}""", "ociVersion is missing")]
    [InlineData("""{"ociVersion":"1.0.2","root":{"path":"r"}}""", "process is missing")]
    [InlineData("""{"ociVersion":"1.0.2","process":{}}""", "root is missing")]
    [InlineData("""{"ociVersion":"1.0.2","process":{"env":"A=1"},"root":{"path":"r"}}""", "process.env must be a list of strings")]
    [InlineData("""{"ociVersion":"1.0.2","process":{"capabilities":["CAP_SYS_ADMIN"]},"root":{"path":"r"}}""", "process.capabilities has the wrong shape")]
    [InlineData("""[1]""", "it is not a JSON object")]
    [InlineData("""{"ociVersion":""", "cannot decode the OCI spec /b/config.json")]
    public void A_spec_the_hook_cannot_use_is_a_one_line_error_naming_the_file(string json, string expected)
    {
        var e = Assert.Throws<GantryException>(() => Parse(json));
        Assert.Contains(expected, e.Message);
        Assert.Contains("/b/config.json", e.Message);
    }

    [Fact]
    public void Env_mounts_and_root_path_are_read_and_unknown_fields_ignored()
    {
        var spec = Parse("""
            {"ociVersion":"1.2.0","process":{"env":["A=1","NVIDIA_VISIBLE_DEVICES=0"]},"root":{"path":"rootfs"},
             "mounts":[{"source":"/dev/null","destination":"/var/run/nvidia-container-devices/0"}],"futureField":{"x":1}}
            """);
        Assert.Equal("rootfs", spec.RootPath);
        Assert.Equal("0", spec.Facts.Get("NVIDIA_VISIBLE_DEVICES"));
        Assert.Equal([("/dev/null", "/var/run/nvidia-container-devices/0")], spec.Facts.Mounts);
    }
}

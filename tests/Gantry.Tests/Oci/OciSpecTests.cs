using System.Text;
using Gantry.Oci;

namespace Gantry.Tests.Oci;

public sealed class OciSpecTests
{
    static OciSpec Parse(string json, bool allowUnknown = false) => OciSpec.Parse(Encoding.UTF8.GetBytes(json), "/b/config.json", allowUnknown);

    [Fact]
    public void What_gantry_does_not_edit_is_written_back_as_it_was_numbers_and_unicode_included()
    {
        var json = """{"ociVersion":"1.0.2","process":{"env":["A=ü"],"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1.0e3}],"x-engine":{"k":[1,2]}},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}""";
        var spec = Parse(json);
        Assert.Equal(json + "\n", Encoding.UTF8.GetString(spec.Serialize()));
    }

    [Theory]
    [InlineData("{", "is not valid JSON")]
    [InlineData("[]", "is not a JSON object")]
    [InlineData("""{"ociVersion":"1","bogus":1}""", "unknown field \"bogus\"")]
    [InlineData("""{"process":[]}""", "\"process\" has the wrong type")]
    [InlineData("""{"process":{"env":[1]}}""", "\"process.env\" must be a list of strings")]
    [InlineData("""{"mounts":["x"]}""", "\"mounts\" must be a list of objects")]
    [InlineData("""{"linux":{"resources":{"devices":{}}}}""", "\"linux.resources.devices\" must be a list of objects")]
    public void Unusable_specs_are_refused_with_the_file_and_the_reason(string json, string why)
    {
        var e = Assert.Throws<OciSpecException>(() => Parse(json));
        Assert.Contains("/b/config.json", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Unknown_top_level_fields_are_kept_when_config_allows_them()
    {
        var spec = Parse("""{"ociVersion":"1","future":{"a":1}}""", allowUnknown: true);
        Assert.Contains("\"future\":{\"a\":1}", Encoding.UTF8.GetString(spec.Serialize()));
    }

    [Fact]
    public void Privilege_means_cap_sys_admin_in_the_bounding_set()
    {
        Assert.True(Parse("""{"process":{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_ADMIN"]}}}""").IsPrivileged);
        Assert.False(Parse("""{"process":{"capabilities":{"effective":["CAP_SYS_ADMIN"]}}}""").IsPrivileged);
    }
}

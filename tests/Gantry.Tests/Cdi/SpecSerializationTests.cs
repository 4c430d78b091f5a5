using Gantry.Cdi;

namespace Gantry.Tests.Cdi;

public class SpecSerializationTests
{
    static string Yaml(Spec s) => SpecWriter.Serialize(WithMinimumVersion(s), SpecFormat.Yaml);
    static string Json(Spec s) => SpecWriter.Serialize(WithMinimumVersion(s), SpecFormat.Json);

    static Spec WithMinimumVersion(Spec s)
    {
        var c = SpecTransforms.Clone(s);
        c.CdiVersion = SpecVersion.Minimum(c);
        return c;
    }

    [Fact]
    public void The_generate_example_of_the_original_is_reproduced_byte_for_byte()
    {
        // Assembly as generate does it: merged "all" device, then simplify (dedupe, drop common, sort).
        var spec = SpecTransforms.Simplify(SpecTransforms.AddMergedAllDevice(Fixtures.GenerateExample()));
        Fixtures.Verify("generate-example.yaml", Yaml(spec));
    }

    [Fact]
    public void A_representative_spec_is_written_as_the_golden_yaml() =>
        Fixtures.Verify("representative.yaml", Yaml(Fixtures.Representative()));

    [Fact]
    public void A_representative_spec_is_written_as_the_golden_compact_json() =>
        Fixtures.Verify("representative.json", Json(Fixtures.Representative()));

    [Theory]
    [InlineData("representative.yaml")]
    [InlineData("generate-example.yaml")]
    public void Yaml_reads_back_to_the_same_text(string golden)
    {
        var text = Fixtures.Read(golden);
        Assert.True(SpecFile.TryParse(text, SpecFormat.Yaml, golden, out var spec, out var error), error?.ToString());
        Assert.Equal(text, SpecWriter.Serialize(spec, SpecFormat.Yaml));
    }

    [Fact]
    public void Json_reads_back_to_the_same_text_and_matches_the_yaml_model()
    {
        var text = Fixtures.Read("representative.json");
        Assert.True(SpecFile.TryParse(text, SpecFormat.Json, "r.json", out var fromJson, out var error), error?.ToString());
        Assert.Equal(text, SpecWriter.Serialize(fromJson, SpecFormat.Json));
        Assert.True(SpecFile.TryParse(Fixtures.Read("representative.yaml"), SpecFormat.Yaml, "r.yaml", out var fromYaml, out _));
        Assert.Equal(text, SpecWriter.Serialize(fromYaml, SpecFormat.Json));
    }

    [Theory]
    [InlineData("0", "\"0\"")]
    [InlineData("all", "all")]
    [InlineData("", "\"\"")]
    [InlineData("true", "\"true\"")]
    [InlineData("True", "\"True\"")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("off", "\"off\"")]
    [InlineData("null", "\"null\"")]
    [InlineData("~", "\"~\"")]
    [InlineData("1.5", "\"1.5\"")]
    [InlineData("1e3", "\"1e3\"")]
    [InlineData(".5", "\".5\"")]
    [InlineData(".inf", "\".inf\"")]
    [InlineData("0x1F", "\"0x1F\"")]
    [InlineData("0o17", "\"0o17\"")]
    [InlineData("017", "\"017\"")]
    [InlineData("-12", "\"-12\"")]
    [InlineData("1_000", "\"1_000\"")]
    [InlineData("1:20", "\"1:20\"")]
    [InlineData("2001-12-14", "\"2001-12-14\"")]
    [InlineData("0.5.0", "0.5.0")]
    [InlineData("999.88.77", "999.88.77")]
    [InlineData("--link", "--link")]
    [InlineData("-", "'-'")]
    [InlineData("- x", "'- x'")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("a:b", "a:b")]
    [InlineData("a #b", "'a #b'")]
    [InlineData("a#b", "a#b")]
    [InlineData(" lead", "' lead'")]
    [InlineData("trail ", "'trail '")]
    [InlineData("it's", "it's")]
    [InlineData("'q'", "'''q'''")]
    [InlineData("{{ .driverRoot }}/dev", "'{{ .driverRoot }}/dev'")]
    [InlineData("*star", "'*star'")]
    [InlineData("---x", "'---x'")]
    [InlineData("a\tb", "\"a\\tb\"")]
    [InlineData("a\nb", "\"a\\nb\"")]
    [InlineData("caf\u00e9", "caf\u00e9")]
    [InlineData("<<", "\"<<\"")]
    public void Scalars_are_quoted_as_yaml_v3_quotes_them(string value, string expected) =>
        Assert.Equal(expected, YamlScalar.Format(value));

    [Fact]
    public void A_device_named_0_is_quoted_and_reads_back_as_a_string()
    {
        var yaml = Yaml(new Spec { Kind = "a.b/c", Devices = [new() { Name = "0", ContainerEdits = new() { Env = ["A=1"] } }] });
        Assert.Contains("    - name: \"0\"\n", yaml);
        Assert.True(SpecFile.TryParse(yaml, SpecFormat.Yaml, "x", out var spec, out _));
        Assert.Equal("0", spec.Devices[0].Name);
    }

    [Fact]
    public void Empty_device_edits_are_written_as_an_empty_mapping_and_empty_common_edits_are_left_out()
    {
        var spec = new Spec { CdiVersion = "0.3.0", Kind = "a.b/c", Devices = [new() { Name = "x" }] };
        Assert.Equal("---\ncdiVersion: 0.3.0\nkind: a.b/c\ndevices:\n    - name: x\n      containerEdits: {}\n", SpecWriter.Serialize(spec, SpecFormat.Yaml));
        Assert.Equal("{\"cdiVersion\":\"0.3.0\",\"kind\":\"a.b/c\",\"devices\":[{\"name\":\"x\",\"containerEdits\":{}}],\"containerEdits\":{}}",
            SpecWriter.Serialize(spec, SpecFormat.Json));
    }

    [Fact]
    public void Annotation_keys_are_ordered_as_yaml_v3_orders_them()
    {
        var keys = new List<string> { "a10", "b", "a2", "a", "A", "1x", "a02" };
        keys.Sort(YamlKeyOrder.Compare);
        Assert.Equal(["1x", "A", "a", "a2", "a02", "a10", "b"], keys);
    }
}

using Gantry.Cdi;

namespace Gantry.Tests.Cdi;

public class SpecFileTests
{
    const string GoodYaml = "---\ncdiVersion: 0.3.0\nkind: a.b/c\ndevices:\n    - name: x\n      containerEdits:\n        env:\n            - A=1\n";

    [Fact]
    public void An_unknown_yaml_field_is_an_error_with_its_line()
    {
        var text = GoodYaml + "      bogus: 1\n";
        Assert.False(SpecFile.TryParse(text, SpecFormat.Yaml, "s.yaml", out _, out var error));
        Assert.Equal("s.yaml", error.File);
        Assert.Equal(9, error.Line);
        Assert.Contains("bogus", error.Message);
    }

    [Fact]
    public void An_unknown_json_field_is_an_error_with_its_path_and_line()
    {
        var text = "{\"cdiVersion\":\"0.3.0\",\"kind\":\"a.b/c\",\n\"devices\":[{\"name\":\"x\",\"bogus\":1}]}";
        Assert.False(SpecFile.TryParse(text, SpecFormat.Json, "s.json", out _, out var error));
        Assert.Equal(2, error.Line);
        Assert.Contains("bogus", error.Message);
        Assert.StartsWith("devices[0]", error.Message);
    }

    [Fact]
    public void Duplicate_keys_are_errors_in_both_formats()
    {
        Assert.False(SpecFile.TryParse("cdiVersion: 0.3.0\ncdiVersion: 0.4.0\nkind: a/b\ndevices: []\n", SpecFormat.Yaml, "d", out _, out _));
        Assert.False(SpecFile.TryParse("{\"kind\":\"a/b\",\"kind\":\"a/c\",\"devices\":[]}", SpecFormat.Json, "d", out _, out _));
    }

    [Fact]
    public void Yaml_syntax_errors_carry_line_and_column()
    {
        Assert.False(SpecFile.TryParse("cdiVersion: 0.3.0\nkind: [a\n", SpecFormat.Yaml, "s.yaml", out _, out var error));
        Assert.NotNull(error.Line);
        Assert.NotNull(error.Column);
        Assert.StartsWith($"s.yaml:{error.Line}:{error.Column}: ", error.ToString());
    }

    [Theory]
    [InlineData("devices: ~\nkind: a/b\ncdiVersion: 0.3.0\n", "devices: must not be null")]
    [InlineData("cdiVersion: 0.3.0\nkind: a/b\ndevices:\n  - name: x\n    containerEdits:\n", "devices[0].containerEdits: must not be null")]
    [InlineData("cdiVersion: 0.3.0\nkind: a/b\ndevices:\n  - name: x\n    containerEdits:\n      env:\n        - ~\n", "devices[0].containerEdits.env[0]: must not be null")]
    [InlineData("", "empty spec")]
    [InlineData("---\n", "empty spec")]
    public void Explicit_nulls_and_empty_documents_are_errors(string text, string message)
    {
        Assert.False(SpecFile.TryParse(text, SpecFormat.Yaml, "n", out _, out var error));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_number_where_a_string_is_expected_reads_as_that_string_like_the_original()
    {
        Assert.True(SpecFile.TryParse("cdiVersion: 0.5.0\nkind: a/b\ndevices:\n  - name: 0\n    containerEdits:\n      env: [A=1]\n", SpecFormat.Yaml, "n", out var spec, out var error), error?.ToString());
        Assert.Equal("0", spec.Devices[0].Name);
    }

    [Theory]
    [InlineData("{\"cdiVersion\":\"0.3.0\"}", "Json")]
    [InlineData("  \n{ }", "Json")]
    [InlineData("---\ncdiVersion: 0.3.0\n", "Yaml")]
    [InlineData("cdiVersion: '{'", "Yaml")]
    public void Stdin_is_sniffed_json_when_it_starts_with_a_brace(string text, string format) =>
        Assert.Equal(format, SpecFile.Sniff(text).ToString());

    [Theory]
    [InlineData("a.json", "Json")]
    [InlineData("a.yaml", "Yaml")]
    [InlineData("a.YML", "Yaml")]
    [InlineData("a.txt", "")]
    public void The_extension_picks_the_format(string path, string format) => Assert.Equal(format, SpecFile.FormatOf(path)?.ToString() ?? "");

    [Fact]
    public void Reading_a_missing_file_is_an_error_not_an_exception()
    {
        Assert.False(SpecFile.TryRead("/nonexistent/x.yaml", out _, out var error));
        Assert.Contains("cannot read", error.Message);
    }

    [Fact]
    public void Parsing_random_garbage_never_throws()
    {
        var rng = new Random(20240611);
        var seeds = new[] { Fixtures.Read("representative.yaml"), Fixtures.Read("representative.json"), Fixtures.Read("generate-example.yaml") };
        const string alphabet = "{}[]:,-'\"#&*!|>%@`?\n\t abc019.=/~\\";
        for (var i = 0; i < 3000; i++)
        {
            string text;
            if (i % 3 == 0)
            {
                text = new string(Enumerable.Range(0, rng.Next(0, 200)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray());
            }
            else
            {
                // Mutate a real spec: flip, drop or insert characters so that the parser gets deep before failing.
                var chars = seeds[rng.Next(seeds.Length)].ToCharArray().ToList();
                for (var k = rng.Next(1, 6); k > 0 && chars.Count > 0; k--)
                {
                    var at = rng.Next(chars.Count);
                    switch (rng.Next(3))
                    {
                        case 0: chars[at] = alphabet[rng.Next(alphabet.Length)]; break;
                        case 1: chars.RemoveAt(at); break;
                        default: chars.Insert(at, alphabet[rng.Next(alphabet.Length)]); break;
                    }
                }
                text = new string(chars.ToArray());
            }
            foreach (var format in new[] { SpecFormat.Yaml, SpecFormat.Json })
            {
                var ok = SpecFile.TryParse(text, format, "fuzz", out var spec, out var error);
                Assert.True(ok ? spec is not null && error is null : spec is null && error is not null);
                if (ok) _ = SpecValidator.Validate(spec!); // a parsed spec must also be safe to validate
            }
        }
    }
}

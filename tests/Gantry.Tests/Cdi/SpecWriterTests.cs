using Gantry.Cdi;
using Gantry.Common;

namespace Gantry.Tests.Cdi;

public sealed class SpecWriterTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("gantry-cdi-writer-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static Spec Small() => new() { CdiVersion = "9.9.9", Kind = "nvidia.com/gpu", Devices = [new() { Name = "0", ContainerEdits = new() { Env = ["A=1"] } }] };

    [Theory]
    [InlineData("nvidia.yaml", false, "Json", "nvidia.yaml", "Yaml")]
    [InlineData("nvidia.json", false, "Yaml", "nvidia.json", "Json")]
    [InlineData("nvidia.yml", false, "Json", "nvidia.yml.yaml", "Yaml")]
    [InlineData("nvidia", false, "Yaml", "nvidia.yaml", "Yaml")]
    [InlineData("nvidia", true, "Json", "nvidia.json", "Json")]
    [InlineData("nvidia.spec", false, "Yaml", "nvidia.spec.yaml", "Yaml")]
    [InlineData("nvidia.json", true, "Yaml", "nvidia.json", "Json")]
    public void The_output_path_and_format_follow_the_original_rules(string output, bool explicitFormat, string format, string path, string finalFormat)
    {
        var (p, f) = SpecWriter.ResolveOutput(output, Enum.Parse<SpecFormat>(format), explicitFormat);
        Assert.Equal(path, p);
        Assert.Equal(finalFormat, f.ToString());
    }

    [Fact]
    public void An_explicit_format_that_contradicts_the_extension_warns()
    {
        var err = new StringWriter();
        SpecWriter.ResolveOutput("x.json", SpecFormat.Yaml, formatExplicit: true, new Log(err, LogLevel.Info));
        Assert.Contains("WARNING", err.ToString());
    }

    [Fact]
    public void A_written_spec_has_mode_0644_the_minimum_version_and_no_temp_files_left()
    {
        var path = SpecWriter.Write(Small(), Path.Combine(_dir, "sub", "nvidia"), SpecFormat.Yaml);
        Assert.Equal(Path.Combine(_dir, "sub", "nvidia.yaml"), path);
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(path));
        Assert.Contains("cdiVersion: 0.5.0\n", File.ReadAllText(path));
        Assert.Equal(["nvidia.yaml"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Keeping_the_version_writes_the_declared_one()
    {
        var s = Small();
        s.CdiVersion = "1.0.0";
        var path = SpecWriter.Write(s, Path.Combine(_dir, "k.json"), SpecFormat.Yaml, keepVersion: true);
        Assert.StartsWith("{\"cdiVersion\":\"1.0.0\"", File.ReadAllText(path));
    }

    [Fact]
    public void Overwriting_replaces_the_whole_file()
    {
        var target = Path.Combine(_dir, "o.yaml");
        File.WriteAllText(target, new string('x', 10000));
        SpecWriter.Write(Small(), target, SpecFormat.Yaml);
        Assert.Equal(SpecWriter.Serialize(WithVersion(Small(), "0.5.0"), SpecFormat.Yaml), File.ReadAllText(target));
    }

    [Fact]
    public void A_failed_write_leaves_no_partial_file_and_says_where()
    {
        // Runs as root in CI, so a read-only directory would not stop us: a path below a regular file does.
        var blocker = Path.Combine(_dir, "file");
        File.WriteAllText(blocker, "keep");
        var e = Assert.Throws<GantryException>(() => SpecWriter.Write(Small(), Path.Combine(blocker, "nvidia.yaml"), SpecFormat.Yaml));
        Assert.Contains(blocker, e.Message);
        Assert.Equal("keep", File.ReadAllText(blocker));
        Assert.Equal(["file"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_write_keeps_the_previous_file()
    {
        var target = Path.Combine(_dir, "prev.yaml");
        File.WriteAllText(target, "previous");
        var invalid = Small();
        invalid.Devices.Clear();
        Assert.Throws<GantryException>(() => SpecWriter.Write(invalid, target, SpecFormat.Yaml));
        Assert.Equal("previous", File.ReadAllText(target));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void An_invalid_spec_is_refused_with_its_problems()
    {
        var s = Small();
        s.Kind = "nope";
        var e = Assert.Throws<GantryException>(() => SpecWriter.Write(s, null, SpecFormat.Yaml, stdout: new StringWriter()));
        Assert.Contains("kind:", e.Message);
    }

    [Fact]
    public void Without_an_output_path_the_spec_goes_to_stdout()
    {
        var stdout = new StringWriter();
        Assert.Equal("-", SpecWriter.Write(Small(), "", SpecFormat.Json, stdout: stdout));
        Assert.StartsWith("{\"cdiVersion\":\"0.5.0\"", stdout.ToString());
    }

    static Spec WithVersion(Spec s, string v) { s.CdiVersion = v; return s; }
}

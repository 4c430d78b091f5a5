using Gantry.NvidiaCtk;

namespace Gantry.Tests.Cdi;

public sealed class CdiValidateTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("gantry-cdi-validate-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_valid_file_is_reported_with_its_version_and_device_count()
    {
        var output = new StringWriter();
        var golden = Fixtures.PathOf("representative.yaml");
        Assert.Equal(0, CdiValidate.Run([golden], output));
        Assert.Equal($"{golden}: valid (cdiVersion 0.7.0, 3 devices)\n", output.ToString());
    }

    [Fact]
    public void Every_problem_is_printed_with_file_and_location_and_the_exit_code_is_1()
    {
        var bad = Path.Combine(_dir, "bad.json");
        File.WriteAllText(bad, "{\"cdiVersion\":\"0.3.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"dev/x\"}]}}]}");
        var broken = Path.Combine(_dir, "broken.yaml");
        File.WriteAllText(broken, "cdiVersion: 0.3.0\nnope: 1\n");
        var output = new StringWriter();
        Assert.Equal(1, CdiValidate.Run([bad, broken, Fixtures.PathOf("representative.json")], output));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{bad}: cdiVersion: the content needs at least 0.5.0, but the spec declares 0.3.0", lines[0]);
        Assert.Equal($"{bad}: devices[0].containerEdits.deviceNodes[0].path: must be absolute", lines[1]);
        Assert.StartsWith($"{broken}: line 2, column", lines[2]);
        Assert.Contains("nope", lines[2]);
        Assert.EndsWith("valid (cdiVersion 0.7.0, 3 devices)", lines[3]);
    }
}

using System.Text;
using Gantry.Discovery;
using Gantry.NvidiaDocker;
using Gantry.Tests.Engines;

namespace Gantry.Tests.NvidiaDocker;

// Golden bodies in tests/fixtures/nvidia-docker; each text golden was checked byte for byte against the
// original's Go templates run through Go's tabwriter, and each JSON golden against Go's json.Encoder.
public sealed class ReportTests
{
    static readonly FakeGpuHost Host = new();

    [Fact]
    public void Gpu_info_text_matches_the_original_layout() =>
        NvidiaDockerFixtures.Verify("gpu-info.txt", GpuInfoReport.From(Host).ToText());

    [Fact]
    public void Gpu_info_json_is_pascal_case_with_nulls() =>
        NvidiaDockerFixtures.Verify("gpu-info.json", NvidiaDockerJson.EncodeText(GpuInfoReport.From(Host), NvidiaDockerJson.Types.GpuInfoReport));

    [Fact]
    public void Gpu_status_text_matches_the_original_layout() =>
        NvidiaDockerFixtures.Verify("gpu-status.txt", GpuStatusReport.From(Host).ToText(GpuInfoReport.From(Host)));

    [Fact]
    public void Gpu_status_json_is_pascal_case_with_nulls() =>
        NvidiaDockerFixtures.Verify("gpu-status.json", NvidiaDockerJson.EncodeText(GpuStatusReport.From(Host), NvidiaDockerJson.Types.GpuStatusReport));

    [Fact]
    public void Units_are_the_originals()
    {
        var info = GpuInfoReport.From(Host).Devices[0];
        Assert.Equal((400u, 65536ul, 31504u, 40960u, 1555200u), (info.Power!.Value, info.PCI.BAR1!.Value, info.PCI.Bandwidth!.Value, info.Memory.Global!.Value, info.Memory.Bandwidth!.Value));
        Assert.Equal("00000000:07:00.0", info.PCI.BusID);
        Assert.Equal(5, info.Topology![0].Link);
        var status = GpuStatusReport.From(Host).Devices[0];
        Assert.Equal((123u, 5000ul, 33ul, 2500u, 0u), (status.Power!.Value, status.Memory.GlobalUsed!.Value, status.PCI.BAR1Used!.Value,
            status.PCI.Throughput.RX!.Value, status.PCI.Throughput.TX!.Value));
        Assert.Null(GpuStatusReport.From(Host).Devices[1].Processes);
    }

    [Fact]
    public void Json_escapes_as_Go_does()
    {
        var host = new FakeGpuHost { Gpus = [new HostGpu(FakeGpuHost.Info(0, "GPU-<&>", "00000000:07:00.0") with { Name = "Tesla°\"x\"" }, GpuDetails.None,
            new DeviceNode("/dev/nvidia0", "/dev/nvidia0"), 0, [])] };
        var json = NvidiaDockerJson.EncodeText(GpuInfoReport.From(host), NvidiaDockerJson.Types.GpuInfoReport);
        Assert.Contains("\"UUID\":\"GPU-\\u003c\\u0026\\u003e\"", json);
        Assert.Contains("\"Model\":\"Tesla°\\\"x\\\"\"", json);
        Assert.EndsWith("}\n", json);
    }

    [Fact]
    public void No_GPUs_give_an_empty_device_list()
    {
        var host = new FakeGpuHost { Gpus = [] };
        Assert.Equal("{\"Version\":{\"Driver\":\"550.54.15\",\"CUDA\":\"12.4\"},\"Devices\":[]}\n",
            NvidiaDockerJson.EncodeText(GpuInfoReport.From(host), NvidiaDockerJson.Types.GpuInfoReport));
        Assert.Equal("\nDriver version:          550.54.15\nSupported CUDA version:  12.4\n\n", GpuInfoReport.From(host).ToText());
    }

    [Fact]
    public void Mesos_attributes_are_the_compressed_info_json()
    {
        var info = GpuInfoReport.From(Host);
        var cli = MesosCli.Arguments(info, Host);
        Assert.EndsWith("--resources=gpus:{GPU-11111111-2222-3333-4444-555555555555,GPU-66666666-7777-8888-9999-000000000000}", cli);
        var attribute = cli["--attributes=gpus:".Length..cli.IndexOf(' ')];
        Assert.DoesNotContain('=', attribute);
        var b64 = attribute.Replace('-', '+').Replace('_', '/');
        b64 += new string('=', (4 - b64.Length % 4) % 4);
        using var z = new System.IO.Compression.ZLibStream(new MemoryStream(Convert.FromBase64String(b64)), System.IO.Compression.CompressionMode.Decompress);
        using var text = new StreamReader(z, Encoding.UTF8);
        Assert.Equal(NvidiaDockerJson.EncodeText(info, NvidiaDockerJson.Types.GpuInfoReport), text.ReadToEnd());
    }

    [Fact]
    public void Metrics_are_prometheus_text_in_base_units()
    {
        var text = PrometheusMetrics.Render(Host);
        Assert.Contains("nvidia_driver_info{version=\"550.54.15\",cuda_version=\"12.4\"} 1\n", text);
        Assert.Contains("# TYPE nvidia_gpu_utilization_percent gauge\nnvidia_gpu_utilization_percent{gpu=\"0\",uuid=\"GPU-11111111-2222-3333-4444-555555555555\"} 87\n", text);
        Assert.Contains("nvidia_gpu_power_watts{gpu=\"0\",uuid=\"GPU-11111111-2222-3333-4444-555555555555\"} 123.456\n", text);
        Assert.Contains("nvidia_gpu_memory_used_bytes{gpu=\"0\",uuid=\"GPU-11111111-2222-3333-4444-555555555555\"} 5242880000\n", text);
        Assert.Contains("nvidia_gpu_process_memory_used_bytes{gpu=\"0\",uuid=\"GPU-11111111-2222-3333-4444-555555555555\",pid=\"4242\",process=\"python3\"} 2147483648\n", text);
        Assert.DoesNotContain("gpu=\"1\",uuid=\"GPU-66666666-7777-8888-9999-000000000000\"} ", text.Replace("nvidia_gpu_info{gpu=\"1\"", ""));
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
            Assert.Matches(@"^[a-z_]+\{[^}]*\} -?[0-9.e+E]+$", line);
    }
}

public sealed class GoTabWriterTests
{
    [Theory]
    // Expected texts are what Go's tabwriter.NewWriter(w, 0, 4, 0, ' ', 0) printed for each input.
    [InlineData("a\tb\naaa\tb\n", "a  b\naaab\n")]                      // a block pads to its widest cell (padding 0)
    [InlineData("a\tb\nx\naaa\tb\n", "ab\nx\naaab\n")]                  // a line without the column ends the block
    [InlineData("\tx:  \t1\n\ty:    \t2\n\t", "x:    1\ny:    2\n")]     // leading empty cells take no room
    [InlineData("a\tb\tc\naa\tbbb\tc\n", "a b  c\naabbbc\n")]
    [InlineData("ä\tb\naa\tb", "ä b\naab")]                             // runes, not bytes; no final newline added
    public void Columns_are_laid_out_as_Go_tabwriter_does(string input, string expected) =>
        Assert.Equal(expected, GoTabWriter.Format(input));
}

internal static class NvidiaDockerFixtures
{
    static string Dir => Path.Combine(Path.GetDirectoryName(EngineFixtures.Dir)!, "nvidia-docker");

    public static string Read(string name) => File.ReadAllText(Path.Combine(Dir, name));

    /// <summary>Approval style: a mismatch writes NAME.received; GANTRY_APPROVE=1 accepts it.</summary>
    public static void Verify(string name, string actual) => EngineFixtures.Verify(Dir, name, actual);
}

using System.Text;
using Gantry.Common;
using Gantry.Discovery.Nvml;
using Gantry.NvidiaDocker;

namespace Gantry.Tests.NvidiaDocker;

public sealed class RemoteApiTests
{
    static readonly RemoteApi Api = new(new FakeGpuHost(), Log.Silent);

    static (int Status, string? Type, string Body) Get(string path, string? query = null, string method = "GET", RemoteApi? api = null)
    {
        var r = (api ?? Api).Handle(method, path, query);
        return (r.Status, r.ContentType, Encoding.UTF8.GetString(r.Body));
    }

    [Theory]
    [InlineData("/gpu/info", HttpReply.PlainText)]
    [InlineData("/gpu/info/json", HttpReply.Json)]
    [InlineData("/gpu/status", HttpReply.PlainText)]
    [InlineData("/gpu/status/json", HttpReply.Json)]
    [InlineData("/docker/cli", HttpReply.PlainText)]
    [InlineData("/docker/cli/json", HttpReply.Json)]
    [InlineData("/mesos/cli", HttpReply.PlainText)]
    public void Every_path_answers_with_and_without_the_version_prefix(string path, string type)
    {
        var plain = Get(path);
        Assert.Equal((200, type), (plain.Status, plain.Type));
        Assert.Equal(plain, Get("/v1.0" + path));
    }

    [Fact]
    public void Docker_cli_lists_the_driver_volume_and_the_devices()
    {
        const string all = "--volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro --device=/dev/nvidiactl " +
                           "--device=/dev/nvidia-uvm --device=/dev/nvidia-uvm-tools --device=/dev/nvidia0 --device=/dev/nvidia1";
        Assert.Equal(all, Get("/docker/cli").Body);
        Assert.Equal(all, Get("/docker/cli", "?vol=*&dev=*").Body);
        Assert.Equal(all, Get("/docker/cli", "?vol=nvidia_driver&dev=0+1").Body);
        Assert.Equal("--volume-driver=nvidia-docker --volume=nvidia_driver_550.54.15:/usr/local/nvidia:ro --device=/dev/nvidiactl --device=/dev/nvidia-uvm " +
                     "--device=/dev/nvidia-uvm-tools --device=/dev/nvidia1", Get("/docker/cli", "?dev=GPU-666").Body);
        Assert.Equal("{\"VolumeDriver\":\"nvidia-docker\",\"Volumes\":[\"nvidia_driver_550.54.15:/usr/local/nvidia:ro\"],\"Devices\":" +
                     "[\"/dev/nvidiactl\",\"/dev/nvidia-uvm\",\"/dev/nvidia-uvm-tools\",\"/dev/nvidia0\"]}\n", Get("/docker/cli/json", "?dev=0").Body);
    }

    [Theory]
    [InlineData("?dev=2", "invalid device: 2")]
    [InlineData("?dev=0%201%20x", "invalid device: x")]
    [InlineData("?dev=0++1", "invalid device: ")]
    [InlineData("?vol=cuda", "invalid volume: cuda")]
    public void Bad_devices_and_volumes_are_400(string query, string message)
    {
        Assert.Equal((400, HttpReply.PlainText, message + "\n"), Get("/docker/cli", query));
        Assert.Equal(400, Get("/v1.0/docker/cli/json", query).Status);
    }

    [Theory]
    [InlineData("GET", "/v2.0/gpu/info")]
    [InlineData("GET", "/gpu")]
    [InlineData("POST", "/gpu")]
    public void Unknown_paths_are_404(string method, string path) =>
        Assert.Equal((404, HttpReply.PlainText, "404 page not found\n"), Get(path, method: method));

    [Theory]
    [InlineData("POST", "/gpu/info")]
    [InlineData("PUT", "/v1.0/docker/cli")]
    [InlineData("DELETE", "/metrics")]
    public void A_wrong_method_on_a_known_path_is_405_allowing_get(string method, string path)
    {
        Assert.Equal((405, HttpReply.PlainText, "405 method not allowed\n"), Get(path, method: method));
        Assert.Equal("GET", Api.Handle(method, path, null).Allow);
    }

    [Fact]
    public void A_failing_driver_ends_the_request_with_500_not_the_server()
    {
        var api = new RemoteApi(new FakeGpuHost { Reading = _ => throw new NvmlCallException(15, "nvml error: GPU is lost") }, Log.Silent);
        Assert.Equal((500, HttpReply.PlainText, "internal error, check logs for details\n"), Get("/gpu/status/json", api: api));
        Assert.Equal(500, Get("/metrics", api: api).Status);
        Assert.Equal(200, Get("/gpu/info", api: api).Status);
    }

    [Fact]
    public void Metrics_have_the_prometheus_content_type() =>
        Assert.Equal(PrometheusMetrics.ContentType, Get("/metrics").Type);
}

public sealed class GpuSelectionTests
{
    static readonly FakeGpuHost Host = new();

    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("1,0", new[] { 0, 1 })]
    [InlineData("1 1 1", new[] { 1 })]
    [InlineData("GPU-1111,GPU-6", new[] { 0, 1 })]
    [InlineData("+1", new[] { 1 })]
    public void Indexes_and_uuid_prefixes_select_gpus(string nvGpu, int[] expected)
    {
        Assert.True(GpuSelection.TrySelect(Host.Gpus, g => g.Info, GpuSelection.ParseList(nvGpu), out var selected, out _));
        Assert.Equal(expected, selected.Select(g => g.Info.Index));
    }

    [Fact]
    public void The_list_splits_on_spaces_and_commas_dropping_empty_items() =>
        Assert.Equal(["0", "1", "GPU-2"], GpuSelection.ParseList(" 0,,1  GPU-2,"));
}

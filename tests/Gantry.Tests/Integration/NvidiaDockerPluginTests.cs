using System.Net;
using System.Net.Sockets;
using System.Text;
using Gantry.Tests.NvidiaDocker;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// The published plugin over real HTTP on a simulated 2-GPU host: every REST path with its golden body (the NVML
// stand-in's clock frozen), the volume plugin on its unix socket, and how it copes with bad and heavy traffic.
public sealed class NvidiaDockerPluginTests(PluginHostFixture host) : IClassFixture<PluginHostFixture>
{
    PluginProcess Plugin => host.Plugin!;
    static StringContent Name(string name) => new($"{{\"Name\":\"{name}\"}}", Encoding.UTF8, "application/json");

    [PluginTheory]
    [InlineData("gpu/info", "text/plain; charset=utf-8", "plugin-gpu-info.txt")]
    [InlineData("gpu/info/json", "application/json", "plugin-gpu-info.json")]
    [InlineData("gpu/status", "text/plain; charset=utf-8", "plugin-gpu-status.txt")]
    [InlineData("gpu/status/json", "application/json", "plugin-gpu-status.json")]
    [InlineData("docker/cli", "text/plain; charset=utf-8", "plugin-docker-cli.txt")]
    [InlineData("docker/cli/json?dev=1", "application/json", "plugin-docker-cli-dev1.json")]
    public async Task Every_rest_path_answers_its_golden_body_with_and_without_v1_0(string path, string contentType, string golden)
    {
        using var client = Plugin.RestClient();
        foreach (var prefix in new[] { "", "v1.0/" })
        {
            using var r = await client.GetAsync(prefix + path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(contentType, r.Content.Headers.ContentType!.ToString());
            NvidiaDockerFixtures.Verify(golden, (await r.Content.ReadAsStringAsync()).Replace(Plugin.DriverRoot, "{{ROOT}}"));
        }
    }

    [PluginFact]
    public async Task Mesos_cli_and_metrics_answer_over_http()
    {
        using var client = Plugin.RestClient();
        var mesos = await client.GetStringAsync("v1.0/mesos/cli");
        Assert.Matches(@"^--attributes=gpus:[A-Za-z0-9_-]+ --resources=gpus:\{GPU-[0-9a-f-]+,GPU-[0-9a-f-]+\}$", mesos);
        using var metrics = await client.GetAsync("metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE nvidia_gpu_temperature_celsius gauge", text);
        Assert.Contains("nvidia_gpu_process_memory_used_bytes{gpu=\"0\"", text);
    }

    [PluginTheory]
    [InlineData("docker/cli?dev=2", "invalid device: 2\n")]
    [InlineData("v1.0/docker/cli/json?dev=GPU-ffff", "invalid device: GPU-ffff\n")]
    [InlineData("docker/cli?vol=cuda", "invalid volume: cuda\n")]
    public async Task A_bad_device_or_volume_is_400(string path, string body)
    {
        using var client = Plugin.RestClient();
        using var r = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(body, await r.Content.ReadAsStringAsync());
    }

    [PluginFact]
    public async Task A_wrong_method_on_a_rest_path_is_405_naming_get_and_an_unknown_path_is_404()
    {
        using var client = Plugin.RestClient();
        foreach (var path in new[] { "gpu/info", "v1.0/docker/cli", "metrics" })
        {
            using var r = await client.PostAsync(path, new StringContent(""));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
            Assert.Equal(["GET"], r.Content.Headers.Allow);
            Assert.Equal("405 method not allowed\n", await r.Content.ReadAsStringAsync());
        }
        using var missing = await client.PostAsync("gpu/nothing", new StringContent(""));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var plugin = Plugin.PluginClient();
        using var g = await plugin.GetAsync("VolumeDriver.List");
        Assert.Equal(HttpStatusCode.NotFound, g.StatusCode);
    }

    [PluginFact]
    public async Task The_volume_plugin_needs_dockers_accept_header()
    {
        using var bare = Plugin.PluginClient(accept: null);
        using var refused = await bare.PostAsync("Plugin.Activate", new StringContent(""));
        Assert.Equal(HttpStatusCode.NotAcceptable, refused.StatusCode);
        using var docker = Plugin.PluginClient();
        using var ok = await docker.PostAsync("Plugin.Activate", new StringContent(""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("application/vnd.docker.plugins.v1+json", ok.Content.Headers.ContentType!.ToString());
        Assert.Equal("{\"Implements\":[\"VolumeDriver\"]}\n", await ok.Content.ReadAsStringAsync());
    }

    [PluginFact]
    public async Task The_volume_is_created_mounted_listed_and_served_from_hard_links()
    {
        using var c = Plugin.PluginClient();
        Assert.Equal("{\"Err\":null}\n", await (await c.PostAsync("VolumeDriver.Create", Name("nvidia_driver_550.54.15"))).Content.ReadAsStringAsync());
        var mount = await (await c.PostAsync("VolumeDriver.Mount", Name("nvidia_driver_550.54.15"))).Content.ReadAsStringAsync();
        var mountpoint = Path.Combine(Plugin.VolumesDir, "nvidia_driver", "550.54.15");
        Assert.Equal($"{{\"Mountpoint\":\"{mountpoint}\",\"Err\":null}}\n", mount);
        Assert.Contains("nvidia_driver_550.54.15", await (await c.PostAsync("VolumeDriver.List", new StringContent(""))).Content.ReadAsStringAsync());
        Assert.Equal("libcuda.so.550.54.15", File.ResolveLinkTarget(Path.Combine(mountpoint, "lib64/libcuda.so.1"), false)!.Name);
        Assert.True(File.Exists(Path.Combine(mountpoint, "lib64/libnvidia-ml.so.1")));
        Assert.True(File.Exists(Path.Combine(mountpoint, "bin/nvidia-smi")));
        Assert.True(Gantry.Host.FileStatus.TryLstat(Path.Combine(mountpoint, "lib64/libcuda.so.550.54.15"), out var inVolume));
        Assert.True(Gantry.Host.FileStatus.TryLstat(Path.Combine(Plugin.DriverRoot, "usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"), out var onHost));
        Assert.True(inVolume.SameFileAs(onHost), "the volume's libcuda should be a hard link of the driver's");
    }

    [PluginFact]
    public async Task Bad_requests_do_not_hurt_the_plugin()
    {
        using var c = Plugin.PluginClient();
        using var malformed = await c.PostAsync("VolumeDriver.Create", new StringContent("{\"Name\":", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.InternalServerError, malformed.StatusCode);
        Assert.Equal("internal error, check logs for details\n", await malformed.Content.ReadAsStringAsync());
        Assert.Equal("{\"Mountpoint\":null,\"Err\":\"unsupported volume: cuda_1\"}\n",
            await (await c.PostAsync("VolumeDriver.Mount", Name("cuda_1"))).Content.ReadAsStringAsync());

        // A client that goes away in the middle of its request, on both servers.
        foreach (var (connect, request) in new (Func<Socket>, string)[]
                 {
                     (() => Connect(new UnixDomainSocketEndPoint(Plugin.SocketPath)), "POST /VolumeDriver.Get HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\nContent-Length: 100\r\n\r\n{\"Na"),
                     (() => Connect(new IPEndPoint(IPAddress.Loopback, Plugin.Rest.Port)), "GET /gpu/sta"),
                 })
            using (var s = connect()) s.Send(Encoding.ASCII.GetBytes(request));
        using var rest = Plugin.RestClient();
        Assert.Equal(HttpStatusCode.OK, (await rest.GetAsync("gpu/status/json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await c.PostAsync("Plugin.Activate", new StringContent(""))).StatusCode);
    }

    static Socket Connect(EndPoint endpoint)
    {
        var s = new Socket(endpoint.AddressFamily, SocketType.Stream, endpoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        s.Connect(endpoint);
        return s;
    }

    [PluginFact]
    public async Task A_thousand_concurrent_requests_all_succeed_and_leak_no_descriptors()
    {
        using (var warm = Plugin.RestClient()) await warm.GetStringAsync("gpu/status/json");
        await Task.Delay(200);
        var before = Plugin.OpenFileDescriptors();
        using (var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = Plugin.Rest, Timeout = TimeSpan.FromSeconds(60) })
        using (var plugin = Plugin.PluginClient())
        {
            var requests = Enumerable.Range(0, 1000).Select(async i =>
            {
                using var r = (i % 4) switch
                {
                    0 => await client.GetAsync("v1.0/docker/cli"),
                    1 => await client.GetAsync("gpu/status/json"),
                    2 => await client.GetAsync("gpu/info/json"),
                    _ => await plugin.PostAsync("VolumeDriver.Get", Name("nvidia_driver_550.54.15")),
                };
                return r.StatusCode;
            });
            Assert.All(await Task.WhenAll(requests), s => Assert.Equal(HttpStatusCode.OK, s));
        }
        // The clients are gone: their connections close, and the plugin's descriptors go back to where they were.
        var after = int.MaxValue;
        for (var i = 0; i < 50 && after > before + 2; i++)
        {
            await Task.Delay(100);
            after = Plugin.OpenFileDescriptors();
        }
        Assert.True(after <= before + 2, $"{before} descriptors before, {after} after");
    }
}

// Each of these starts its own plugin: they stop it.
public sealed class NvidiaDockerPluginLifeTests
{
    [PluginFact]
    public async Task Sigterm_ends_it_cleanly_and_a_restart_keeps_the_volumes()
    {
        using var dir = Sim.Host("--gpus", "1");
        var mountpoint = Path.Combine(dir["volumes"], "nvidia_driver", "550.54.15");
        using (var first = new PluginProcess(dir["host"], dir["volumes"], dir["sock"]))
        {
            using var c = first.PluginClient();
            Assert.Equal("{\"Err\":null}\n", await (await c.PostAsync("VolumeDriver.Create", new StringContent("{\"Name\":\"nvidia_driver_550.54.15\"}"))).Content.ReadAsStringAsync());
            Assert.Equal(0, first.Stop());
            Assert.Contains("Successfully terminated", first.Log);
            Assert.False(File.Exists(first.SocketPath), "the socket should be removed");
        }
        using var second = new PluginProcess(dir["host"], dir["volumes"], dir["sock"]);
        using var again = second.PluginClient();
        Assert.Equal($"{{\"Mountpoint\":\"{mountpoint}\",\"Err\":null}}\n",
            await (await again.PostAsync("VolumeDriver.Mount", new StringContent("{\"Name\":\"nvidia_driver_550.54.15\"}"))).Content.ReadAsStringAsync());
        Assert.True(File.Exists(Path.Combine(mountpoint, "lib64/libcuda.so.1")));
        Assert.Equal(0, second.Stop());
    }

    // --spec-file announces the socket to Docker while the plugin runs; --dev-root is where the device nodes it
    // names are (here a directory whose dev links to the simulated host's).
    [PluginFact]
    public async Task The_spec_file_names_the_socket_while_it_runs_and_devices_come_from_the_dev_root()
    {
        using var dir = Sim.Host("--gpus", "1");
        var spec = Path.Combine(dir["plugins"], "nvidia-docker.spec");
        Directory.CreateDirectory(dir["plugins"]);
        Directory.CreateDirectory(dir["devroot"]);
        File.CreateSymbolicLink(Path.Combine(dir["devroot"], "dev"), Path.Combine(dir["host"], "dev"));
        using (var plugin = new PluginProcess(dir["host"], dir["volumes"], dir["sock"], extraArgs: ["--spec-file", spec, "--dev-root", dir["devroot"]]))
        {
            Assert.Equal($"unix://{plugin.SocketPath}\n", File.ReadAllText(spec));
            using var client = plugin.RestClient();
            Assert.Contains($"--device={dir["devroot"]}/dev/nvidia0:/dev/nvidia0", await client.GetStringAsync("docker/cli"));
            Assert.Equal(0, plugin.Stop());
        }
        Assert.False(File.Exists(spec), "the spec file should be removed when the plugin stops");
    }

    [PluginFact]
    public async Task Live_readings_change_between_calls()
    {
        using var dir = Sim.Host("--gpus", "1");
        using var plugin = new PluginProcess(dir["host"], dir["volumes"], dir["sock"]);
        using var client = plugin.RestClient();
        var first = await client.GetStringAsync("gpu/status/json");
        await Task.Delay(1300);
        var second = await client.GetStringAsync("gpu/status/json");
        Assert.NotEqual(first, second);
        Assert.Equal(0, plugin.Stop());
    }

    [PluginFact]
    public void Bad_flags_and_a_missing_driver_are_one_line_errors()
    {
        var r = TestEnvironment.Run(PluginProcess.Binary, "--nope");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("flag provided but not defined: -nope", r.Stderr);
        var v = TestEnvironment.Run(PluginProcess.Binary, "-v");
        Assert.Equal((0, "NVIDIA Docker plugin: 0.1.0\n"), (v.ExitCode, v.Stdout));
        using var dir = new TempDir();
        var missing = TestEnvironment.Run(PluginProcess.Binary, "--driver-root", dir["nothing"], "-s", dir["s"], "-d", dir["d"], "-l", "127.0.0.1:0");
        Assert.Equal(1, missing.ExitCode);
        Assert.Matches(@"nvidia-docker-plugin \| \d{4}/\d\d/\d\d \d\d:\d\d:\d\d Error: driver root .* does not exist", missing.Stderr);
    }

    [PluginTheory]
    [InlineData("notanaddress", "invalid listen address 'notanaddress': missing port (expected host:port, e.g. localhost:3476)")]
    [InlineData("127.0.0.1:99999", "invalid listen address '127.0.0.1:99999': the port must be a number from 0 to 65535")]
    [InlineData("127.0.0.1:abc", "invalid listen address '127.0.0.1:abc': the port must be a number from 0 to 65535")]
    public void A_bad_listen_address_is_a_usage_error_before_anything_is_created(string address, string message)
    {
        using var dir = Sim.Host("--gpus", "1");
        var socketDir = Path.Combine(dir["sock"], "a", "b");
        var r = TestEnvironment.Run(PluginProcess.Binary, "--driver-root", dir["host"], "-s", socketDir, "-d", dir["volumes"], "-l", address);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith(message + "\nUsage of ", r.Stderr);
        Assert.DoesNotContain("Provisioning", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(Directory.Exists(dir["sock"]), "nothing should be created");
    }

    [PluginTheory]
    [InlineData("-s")]
    [InlineData("-d")]
    public void A_socket_or_volume_directory_that_is_a_file_is_refused_before_anything_starts(string flag)
    {
        using var dir = Sim.Host("--gpus", "1");
        File.WriteAllText(dir["file"], "");
        string[] dirs = flag == "-s" ? ["-s", dir["file/sock"], "-d", dir["volumes"]] : ["-s", dir["sock"], "-d", dir["file/volumes"]];
        var r = TestEnvironment.Run(PluginProcess.Binary, ["--driver-root", dir["host"], "-l", "127.0.0.1:0", .. dirs]);
        Assert.Equal(1, r.ExitCode);
        Assert.Matches($@"Error: {flag} {dir["file"]}/\w+: {dir["file"]} is a file, not a directory\n$", r.Stderr);
        Assert.DoesNotContain("Loading", r.Stderr);
        Assert.False(Directory.Exists(dir["sock"]) || Directory.Exists(dir["volumes"]));
    }

    [PluginFact]
    public void A_busy_port_is_one_error_line_and_leaves_no_socket_directory()
    {
        using var dir = Sim.Host("--gpus", "1");
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var socketDir = Path.Combine(dir["sock"], "a");
        var r = TestEnvironment.Run(PluginProcess.Binary, "--driver-root", dir["host"], "-s", socketDir, "-d", dir["volumes"], "-l", $"127.0.0.1:{port}");
        Assert.Equal(1, r.ExitCode);
        Assert.Matches($@"Error: cannot listen on 127\.0\.0\.1:{port}: the address is already in use\n$", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(Directory.Exists(dir["sock"]), "the socket directory should not be left behind");
    }
}

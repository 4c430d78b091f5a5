using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// nvidia-container-cli info/list on simulated hosts, compared with golden files in tests/fixtures/cli.
public sealed class ContainerCliTests
{
    static string Cli => Path.Combine(TestEnvironment.BinDir, "nvidia-container-cli");

    static ProcessResult Run(params string[] args) => TestEnvironment.Run(Cli, args);

    static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(TestEnvironment.RepoRoot, "tests/fixtures/cli", name);
        if (Environment.GetEnvironmentVariable("GANTRY_APPROVE") == "1") { File.WriteAllText(path, actual); return; }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run the tests with GANTRY_APPROVE=1 once and review it");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    [BinaryTheory]
    [InlineData("1gpu", new[] { "--gpus", "1" })]
    [InlineData("8gpu", new[] { "--gpus", "8" })]
    [InlineData("mig", new[] { "--gpus", "2", "--mig", "0:2" })]
    [InlineData("no-nvml", new[] { "--gpus", "2", "--without", "nvml" })]
    [InlineData("compat32", new[] { "--gpus", "1", "--compat32" })]
    [InlineData("wsl", new[] { "--gpus", "2", "--wsl" })]
    public void Info_and_list_print_the_golden_output(string name, string[] simulate)
    {
        using var d = Sim.Host([.. simulate, "--device-nodes", "plain"]);
        var root = d["host"];
        foreach (var (suffix, args) in new[]
                 {
                     ("info.txt", new[] { "info" }), ("info.csv", new[] { "info", "--csv" }), ("list.txt", new[] { "list" }),
                 })
        {
            var r = Run(["--root", root, .. args]);
            Assert.True(r.ExitCode == 0, $"{string.Join(' ', args)}: {r.Stderr}");
            AssertGolden($"{name}-{suffix}", Sim.Normalize(r.Stdout, root));
        }
    }

    [BinaryFact]
    public void Without_nvml_a_warning_names_the_facts_that_print_as_null()
    {
        using var d = Sim.Host("--gpus", "1", "--without", "nvml", "--device-nodes", "plain");
        var r = Run("-r", d["host"], "info");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("nvidia-container-cli: warning: NVML under", r.Stderr);
        Assert.Contains("Architecture:   (null)", r.Stdout);
    }

    [BinaryFact]
    public void List_options_select_parts_and_capabilities_narrow_them()
    {
        using var d = Sim.Host("--gpus", "2", "--mig", "1:1", "--compat32", "--device-nodes", "plain");
        var root = d["host"];
        var libs = Run("--root=" + root, "list", "--libraries");
        Assert.Equal(0, libs.ExitCode);
        Assert.DoesNotContain("i386", libs.Stdout);
        Assert.Contains("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15\n", libs.Stdout);

        var compute = Run("-r", root, "list", "-l", "--compat32", "--compute");
        Assert.Equal("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15", compute.Stdout.Split('\n')[0]);
        Assert.DoesNotContain("libnvidia-ml", compute.Stdout);
        Assert.Contains("/usr/lib/i386-linux-gnu/libcuda.so.550.54.15", compute.Stdout);

        var utility = Run("-r", root, "list", "-bi", "--utility");
        Assert.Equal("/usr/bin/nvidia-smi\n/usr/bin/nvidia-debugdump\n/usr/bin/nvidia-persistenced\n/run/nvidia-persistenced/socket\n", utility.Stdout);

        // A MIG device brings its parent GPU after it; the caps files and nodes follow the GPU nodes.
        var mig = Run("-r", root, "list", "--device=0,1:0", "--utility");
        Assert.Equal(0, mig.ExitCode);
        var lines = mig.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia1"], lines[..3]);
        Assert.Matches(@"^/proc/driver/nvidia/capabilities/gpu1/mig/gi\d+/access$", lines[3]);
        Assert.StartsWith("/dev/nvidia-caps/nvidia-cap", lines[^1]);

        var imex = Run("-r", root, "list", "--imex-channel=3,1");
        Assert.Contains("/dev/nvidia-caps-imex-channels/channel3\n/dev/nvidia-caps-imex-channels/channel1\n", imex.Stdout);
        Assert.Contains("/usr/bin/nvidia-smi", imex.Stdout);
    }

    [BinaryTheory]
    [InlineData(new[] { "list", "--device=7" }, "nvidia-container-cli: device error: 7: unknown device\n")]
    [InlineData(new[] { "list", "--device=GPU-nope" }, "nvidia-container-cli: device error: GPU-nope: unknown device\n")]
    [InlineData(new[] { "list", "--imex-channel=1048576" }, "nvidia-container-cli: error parsing IMEX info: unsupported IMEX channel value: 1048576\n")]
    [InlineData(new[] { "list", "--mig-config=0" }, "nvidia-container-cli: mig-config error: 0: only 'all' devices are currently supported\n")]
    [InlineData(new[] { "list", "-x" }, "nvidia-container-cli list: invalid option -- 'x'\nTry `nvidia-container-cli list --help' or `nvidia-container-cli list --usage' for more information.\n")]
    [InlineData(new[] { "list", "extra" }, "nvidia-container-cli list: Too many arguments\nTry `nvidia-container-cli list --help' or `nvidia-container-cli list --usage' for more information.\n")]
    [InlineData(new[] { "info", "--csv=1" }, "nvidia-container-cli info: option '--csv' doesn't allow an argument\nTry `nvidia-container-cli info --help' or `nvidia-container-cli info --usage' for more information.\n")]
    [InlineData(new[] { "frobnicate" }, "Usage: nvidia-container-cli [OPTION...] COMMAND [ARG...]\nTry `nvidia-container-cli --help' or `nvidia-container-cli --usage' for more information.\n")]
    public void Bad_input_gives_the_original_message_and_exit_code_1(string[] args, string stderr)
    {
        using var d = Sim.Host("--gpus", "2", "--device-nodes", "plain");
        var r = Run(["--root", d["host"], .. args]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(stderr, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [BinaryFact]
    public void Unknown_global_options_and_a_missing_command_are_usage_errors()
    {
        var r = Run("--bogus", "info");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("nvidia-container-cli: unrecognized option '--bogus'\nTry `nvidia-container-cli --help'", r.Stderr);
        Assert.Equal(1, Run().ExitCode);
        var needs = Run("--root");
        Assert.Equal("nvidia-container-cli: option '--root' requires an argument\nTry `nvidia-container-cli --help' or `nvidia-container-cli --usage' for more information.\n", needs.Stderr);
    }

    [BinaryFact]
    public void A_missing_driver_is_an_initialization_error()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["empty"]);
        var r = Run("--root", d["empty"], "info");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory", r.Stderr);
        var gone = Run("--root", d["not-there"], "list");
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal($"nvidia-container-cli: initialization error: open failed: {d["not-there"]}: no such file or directory\n", gone.Stderr);
    }

    [BinaryFact]
    public void Configure_takes_exactly_one_absolute_rootfs_and_has_help()
    {
        var none = Run("configure", "--utility");
        Assert.Equal(1, none.ExitCode);
        Assert.Equal("Usage: nvidia-container-cli configure [OPTION...] ROOTFS\nTry `nvidia-container-cli configure --help' or " +
                     "`nvidia-container-cli configure --usage' for more information.\n", none.Stderr);
        Assert.Equal(1, Run("configure", "/a", "/b").ExitCode);
        var relative = Run("configure", "rootfs");
        Assert.Equal("nvidia-container-cli: input error: invalid rootfs directory\n", relative.Stderr);
        var help = Run("configure", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--cuda-compat-mode=MODE", help.Stdout);
        Assert.Contains("-l, --ldconfig=PATH", help.Stdout);
    }

    [BinaryFact]
    public void Version_and_help_print_to_stdout()
    {
        var v = Run("--version");
        Assert.Equal(0, v.ExitCode);
        Assert.StartsWith("cli-version: ", v.Stdout);
        Assert.Contains("\nlib-version: ", v.Stdout);
        var h = Run("--help");
        Assert.Contains("-r, --root=PATH", h.Stdout);
        Assert.Contains("-u, --user[=UID[:GID]]", h.Stdout);
    }

    [BinaryFact]
    public void Global_options_are_accepted_in_their_getopt_spellings()
    {
        using var d = Sim.Host("--gpus", "1", "--device-nodes", "plain");
        using var log = new TempDir();
        var r = Run($"-r{d["host"]}", "-n", "--no-create-imex-channels", "--user=0:0", "-u", "-l", "/etc/ld.so.cache", "--debug", log["cli.log"], "info", "--csv");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("NVRM version,CUDA version\n550.54.15,12.4\n", r.Stdout);
        Assert.Contains("using root", File.ReadAllText(log["cli.log"]));
        var badCache = Run("--root", d["host"], "--ldcache=/etc/nope.cache", "list", "-l");
        Assert.Equal(1, badCache.ExitCode);
        Assert.StartsWith("nvidia-container-cli: detection error: open failed:", badCache.Stderr);
    }
}

using Gantry.Common;
using Gantry.Host;
using Gantry.ContainerCli;
using Gantry.Tests.Support;

namespace Gantry.Tests.Integration;

// No silently ignored option: every flag of every command, read from the parser's own table, either changes what
// the command does (its exit code, stdout or stderr differ from the same command line without it), is refused, or
// is exercised by a named test file. A new flag without a case here fails Every_flag_of_every_command_has_a_case.
public sealed class FlagEffectTests : IClassFixture<FlagEffectTests.Host>
{
    readonly Host _host;
    public FlagEffectTests(Host host) => _host = host;

    /// <summary>Every parser table: the command as a user types it, and the long names of its flags.</summary>
    internal static IEnumerable<(string Command, IEnumerable<string> Flags)> Tables()
    {
        static IEnumerable<string> Names(FlagSet f) => f.Definitions.Select(d => d.Name);
        static IEnumerable<string> Argp(IEnumerable<ArgpOption> o) => o.Select(x => x.Long);
        yield return ("nvidia-ctk", Names(global::Gantry.NvidiaCtk.NvidiaCtkCommand.GlobalFlags()));
        yield return ("nvidia-ctk cdi generate", Names(global::Gantry.NvidiaCtk.CdiGenerateCommand.Flags()));
        yield return ("nvidia-ctk cdi list", Names(global::Gantry.NvidiaCtk.CdiList.Flags()));
        yield return ("nvidia-ctk cdi validate", Names(global::Gantry.NvidiaCtk.CdiValidate.Flags()));
        yield return ("nvidia-ctk cdi transform root", Names(global::Gantry.NvidiaCtk.CdiTransformRoot.Flags()));
        yield return ("nvidia-ctk config", Names(global::Gantry.NvidiaCtk.ConfigCommand.Flags()));
        yield return ("nvidia-ctk config default", Names(global::Gantry.NvidiaCtk.ConfigCommand.DefaultFlags()));
        yield return ("nvidia-ctk runtime configure", Names(global::Gantry.NvidiaCtk.RuntimeConfigureCommand.Flags()));
        yield return ("nvidia-ctk system create-device-nodes", Names(global::Gantry.NvidiaCtk.HostSystem.SystemCommand.Flags()));
        yield return ("nvidia-ctk system create-dev-char-symlinks", Names(global::Gantry.NvidiaCtk.HostSystem.DevCharSymlinks.Flags()));
        yield return ("nvidia-ctk info", Names(global::Gantry.NvidiaCtk.InfoCommand.Flags()));
        yield return ("gantry simulate", Names(global::Gantry.NvidiaCtk.SimulateCommand.Flags()));
        yield return ("gantry demo", Names(global::Gantry.NvidiaCtk.DemoCommand.Flags()));
        yield return ("nvidia-cdi-hook", Names(global::Gantry.Hooks.CdiHookCommand.GlobalFlags()));
        foreach (var hook in global::Gantry.Hooks.CdiHookCommand.Hooks)
            yield return ($"nvidia-cdi-hook {hook.Name}", Names(hook.DefineFlags()));
        yield return ("nvidia-container-runtime-hook", Names(global::Gantry.RuntimeHook.RuntimeHookCommand.Flags()));
        yield return ("nvidia-container-cli", Argp(ContainerCliCommand.GlobalOptions));
        yield return ("nvidia-container-cli info", Argp(InfoSubcommand.Options));
        yield return ("nvidia-container-cli list", Argp(ListSubcommand.Options));
        yield return ("nvidia-container-cli configure", Argp(ConfigureRequest.Options));
        // The runtime forwards every argument to runc; these are the ones it reads itself.
        yield return ("nvidia-container-runtime", global::Gantry.Runtime.RuntimeArgs.Options);
        // nvidia-docker's arguments are all docker's: its settings are variables and config file keys.
        yield return ("nvidia-docker (environment)", global::Gantry.NvidiaDockerWrapper.WrapperSettings.Variables);
        yield return ("nvidia-docker (config file)", global::Gantry.NvidiaDockerWrapper.WrapperSettings.ConfigKeys);
    }

    /// <summary>The executables of their own (not in this test's process): their tables as their --help prints them.</summary>
    internal static readonly string[] SeparateBinaries = ["nvidia-device-plugin", "gpu-feature-discovery", "nvidia-docker-plugin"];

    /// <summary>The flags a usage text lists (FlagSet.Usage: "   -l, --listen value\thelp"), by their first name.</summary>
    internal static List<string> FlagsInUsage(string usage) =>
        usage.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^\s+--?([A-Za-z0-9][\w.-]*)"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();

    /// <summary>A flag's proof: a run with and without it, or a test file that exercises it.</summary>
    internal abstract record Case;
    /// <summary>"name args" with and without the flag; {host}, {tmp}, {spec}, {config} and {specs} are filled in. With
    /// <paramref name="Produces"/>, the run with the flag must (also) write that file; with <paramref name="Reads"/>, the
    /// number of lines each run writes to that file (a log: its lines carry times) is part of the outcome.</summary>
    internal sealed record Effect(string Without, string With, string? Produces = null, string? Reads = null) : Case;
    /// <summary>The flag is refused in this form: non-zero exit and the message.</summary>
    internal sealed record Refused(string With, string Message) : Case;
    /// <summary>Exercised by the test file (under tests/Gantry.Tests), which must name it.</summary>
    internal sealed record Elsewhere(string[] TestFiles, string Token = "") : Case
    {
        public Elsewhere(string testFile, string token = "") : this([testFile], token) { }
    }

    const string Gen = "nvidia-ctk cdi generate --driver-root={host} --nvidia-cdi-hook-path=/usr/bin/nvidia-cdi-hook";
    const string Transform = "nvidia-ctk cdi transform root --input={spec}";
    const string Conf = "nvidia-ctk config --config-file={config}";
    const string Cli = "nvidia-container-cli --root={host} list";
    const string Docker = "nvidia-ctk runtime configure --runtime=docker --config={tmp}/daemon.json --dry-run";

    static readonly Dictionary<string, Case> Cases = new()
    {
        // Global flags of nvidia-ctk.
        ["nvidia-ctk --debug"] = new Effect(Gen, "nvidia-ctk --debug " + Gen[11..]),
        ["nvidia-ctk --quiet"] = new Effect(Gen, "nvidia-ctk --quiet " + Gen[11..]),
        ["nvidia-ctk --config"] = new Effect("nvidia-ctk cdi generate", "nvidia-ctk --config={config} cdi generate"),
        ["nvidia-ctk --version"] = new Effect("nvidia-ctk", "nvidia-ctk --version"),
        ["nvidia-ctk --help"] = new Elsewhere("Integration/HelpTests.cs", "--help"),

        ["nvidia-ctk cdi generate --config-search-path"] = new Effect(Gen, Gen + " --config-search-path={tmp}/empty"),
        ["nvidia-ctk cdi generate --output"] = new Effect(Gen, Gen + " --output={tmp}/generated.yaml"),
        ["nvidia-ctk cdi generate --format"] = new Effect(Gen, Gen + " --format=json"),
        ["nvidia-ctk cdi generate --mode"] = new Effect(Gen, Gen + " --mode=management"),
        ["nvidia-ctk cdi generate --dev-root"] = new Effect(Gen, Gen + " --dev-root={tmp}/empty"),
        ["nvidia-ctk cdi generate --device-name-strategy"] = new Effect(Gen, Gen + " --device-name-strategy=type-index"),
        ["nvidia-ctk cdi generate --driver-root"] = new Effect("nvidia-ctk cdi generate --driver-root={tmp}/empty", Gen),
        ["nvidia-ctk cdi generate --library-search-path"] = new Effect(Gen, Gen + " --library-search-path={tmp}/empty"),
        ["nvidia-ctk cdi generate --nvidia-cdi-hook-path"] = new Effect(Gen, Gen + " --nvidia-cdi-hook-path=/opt/bin/nvidia-ctk"),
        ["nvidia-ctk cdi generate --ldconfig-path"] = new Effect(Gen, Gen + " --ldconfig-path=/sbin/ldconfig.real"),
        ["nvidia-ctk cdi generate --vendor"] = new Effect(Gen, Gen + " --vendor=example.com"),
        ["nvidia-ctk cdi generate --class"] = new Effect(Gen, Gen + " --class=device"),
        ["nvidia-ctk cdi generate --csv.file"] = new Effect(Gen, Gen + " --csv.file={tmp}/devices.csv"),
        ["nvidia-ctk cdi generate --csv.ignore-pattern"] = new Effect(Gen, Gen + " --csv.ignore-pattern=*.so"),
        ["nvidia-ctk cdi generate --csv.compat-container-root"] = new Effect(Gen, Gen + " --csv.compat-container-root=/compat"),
        ["nvidia-ctk cdi generate --disable-hook"] = new Effect(Gen, Gen + " --disable-hook=update-ldcache"),
        ["nvidia-ctk cdi generate --enable-hook"] = new Effect(Gen, Gen + " --enable-hook=chmod"),
        ["nvidia-ctk cdi generate --feature-flag"] = new Effect(Gen, Gen + " --feature-flag=disable-ipc-discoverer"),
        ["nvidia-ctk cdi generate --no-all-device"] = new Effect(Gen, Gen + " --no-all-device"),
        ["nvidia-ctk cdi generate --device-id"] = new Effect(Gen, Gen + " --device-id=1"),
        ["nvidia-ctk cdi generate --help"] = new Effect(Gen, Gen + " --help"),

        ["nvidia-ctk cdi list --spec-dir"] = new Effect("nvidia-ctk cdi list --spec-dir={tmp}/empty", "nvidia-ctk cdi list --spec-dir={specs}"),
        ["nvidia-ctk cdi list --help"] = new Effect("nvidia-ctk cdi list --spec-dir={specs}", "nvidia-ctk cdi list --spec-dir={specs} --help"),
        ["nvidia-ctk cdi validate --help"] = new Effect("nvidia-ctk cdi validate {spec}", "nvidia-ctk cdi validate --help {spec}"),

        ["nvidia-ctk cdi transform root --from"] = new Effect(Transform + " --to=/x", Transform + " --to=/x --from={host}"),
        ["nvidia-ctk cdi transform root --to"] = new Effect(Transform + " --from={host}", Transform + " --from={host} --to=/x"),
        ["nvidia-ctk cdi transform root --relative-to"] = new Effect(Transform + " --from=/dev --to=/x", Transform + " --from=/dev --to=/x --relative-to=container"),
        ["nvidia-ctk cdi transform root --input"] = new Effect("nvidia-ctk cdi transform root --input={tmp}/missing.yaml", Transform),
        ["nvidia-ctk cdi transform root --output"] = new Effect(Transform, Transform + " --output={tmp}/transformed.yaml"),
        ["nvidia-ctk cdi transform root --help"] = new Effect(Transform, Transform + " --help"),

        ["nvidia-ctk config --config-file"] = new Effect("nvidia-ctk config --config-file={tmp}/missing.toml", Conf),
        ["nvidia-ctk config --set"] = new Effect(Conf, Conf + " --set=nvidia-container-cli.root=/x"),
        ["nvidia-ctk config --set-list-separator"] = new Effect(Conf + " --set=nvidia-container-runtime.runtimes=a;b",
            Conf + " --set=nvidia-container-runtime.runtimes=a;b --set-list-separator=;"),
        ["nvidia-ctk config --in-place"] = new Effect("nvidia-ctk config --config-file={tmp}/in-place.toml --set=nvidia-container-cli.root=/y",
            "nvidia-ctk config --config-file={tmp}/in-place.toml --set=nvidia-container-cli.root=/y --in-place"),
        ["nvidia-ctk config --output"] = new Effect(Conf, Conf + " --output={tmp}/config-out.toml"),
        ["nvidia-ctk config --help"] = new Effect(Conf, Conf + " --help"),
        ["nvidia-ctk config default --output"] = new Effect("nvidia-ctk config default", "nvidia-ctk config default --output={tmp}/default.toml"),
        ["nvidia-ctk config default --help"] = new Effect("nvidia-ctk config default", "nvidia-ctk config default --help"),

        ["nvidia-ctk runtime configure --dry-run"] = new Effect(Docker.Replace(" --dry-run", ""), Docker),
        ["nvidia-ctk runtime configure --runtime"] = new Effect(Docker, Docker.Replace("=docker", "=containerd").Replace("daemon.json", "config.toml")),
        ["nvidia-ctk runtime configure --config"] = new Effect(Docker, Docker.Replace("daemon.json", "other.json")),
        ["nvidia-ctk runtime configure --drop-in-config"] = new Refused(Docker + " --drop-in-config=/etc/docker/x.json", "does not support drop-in"),
        ["nvidia-ctk runtime configure --executable-path"] = new Effect(Docker, Docker + " --executable-path=/usr/bin/dockerd"),
        ["nvidia-ctk runtime configure --config-mode"] = new Effect(Docker, Docker + " --config-mode=oci-hook"),
        ["nvidia-ctk runtime configure --config-source"] = new Effect(Docker, Docker + " --config-source=command"),
        ["nvidia-ctk runtime configure --oci-hook-path"] = new Effect("nvidia-ctk runtime configure --config-mode=oci-hook",
            "nvidia-ctk runtime configure --config-mode=oci-hook --oci-hook-path={tmp}/hook.json", Produces: "{tmp}/hook.json"),
        ["nvidia-ctk runtime configure --nvidia-runtime-name"] = new Effect(Docker, Docker + " --nvidia-runtime-name=gpu"),
        ["nvidia-ctk runtime configure --nvidia-runtime-path"] = new Effect(Docker, Docker + " --nvidia-runtime-path=/opt/nvidia-container-runtime"),
        ["nvidia-ctk runtime configure --nvidia-runtime-hook-path"] = new Effect(Docker + " --config-mode=oci-hook", Docker + " --config-mode=oci-hook --nvidia-runtime-hook-path=/opt/hook"),
        ["nvidia-ctk runtime configure --nvidia-set-as-default"] = new Effect(Docker, Docker + " --nvidia-set-as-default"),
        ["nvidia-ctk runtime configure --cdi.enabled"] = new Effect(Docker, Docker + " --cdi.enabled"),
        ["nvidia-ctk runtime configure --swarm-resources"] = new Effect(Docker + " --driver-root={host}", Docker + " --driver-root={host} --swarm-resources"),
        ["nvidia-ctk runtime configure --swarm-resource-kind"] = new Effect(Docker + " --driver-root={host} --swarm-resources",
            Docker + " --driver-root={host} --swarm-resources --swarm-resource-kind=GPU"),
        ["nvidia-ctk runtime configure --driver-root"] = new Effect(Docker + " --swarm-resources --driver-root={tmp}/empty", Docker + " --swarm-resources --driver-root={host}"),
        ["nvidia-ctk runtime configure --toolkit-config"] = new Elsewhere("Swarm/SwarmConfigureTests.cs", "toolkit-config"),
        ["nvidia-ctk runtime configure --unset"] = new Effect(Docker, Docker + " --unset"),
        ["nvidia-ctk runtime configure --help"] = new Effect(Docker, Docker + " --help"),

        // The demo runs a container; a bad --gpus stops it before that, and --keep then says what it kept.
        ["gantry demo --gpus"] = new Refused("gantry demo --gpus=0", "--gpus must be between 1 and 16"),
        ["gantry demo --keep"] = new Effect("gantry demo --gpus=0", "gantry demo --gpus=0 --keep"),
        ["gantry demo --help"] = new Effect("gantry demo --gpus=0", "gantry demo --gpus=0 --help"),

        // nvidia-container-cli: list and info on the simulated host; the global options as they show there.
        ["nvidia-container-cli --root"] = new Effect("nvidia-container-cli --root={tmp}/empty list", Cli),
        ["nvidia-container-cli --ldcache"] = new Effect(Cli + " --libraries", Cli.Replace(" list", " --ldcache={tmp}/empty/ld.so.cache list") + " --libraries"),
        ["nvidia-container-cli --debug"] = new Effect(Cli, Cli.Replace(" list", " --debug={tmp}/cli-debug.log list"), Produces: "{tmp}/cli-debug.log"),
        ["nvidia-container-cli --user"] = new Effect(Cli, Cli.Replace(" list", " --user=0:0 list")),
        ["nvidia-container-cli info --csv"] = new Effect("nvidia-container-cli --root={host} info", "nvidia-container-cli --root={host} info --csv"),
        ["nvidia-container-cli list --device"] = new Effect(Cli, Cli + " --device=1"),
        ["nvidia-container-cli list --libraries"] = new Effect(Cli, Cli + " --libraries"),
        ["nvidia-container-cli list --binaries"] = new Effect(Cli, Cli + " --binaries"),
        ["nvidia-container-cli list --ipcs"] = new Effect(Cli, Cli + " --ipcs"),
        ["nvidia-container-cli list --firmwares"] = new Effect(Cli, Cli + " --firmwares"),
        ["nvidia-container-cli list --compat32"] = new Effect(Cli + " --libraries", Cli + " --libraries --compat32"),
        ["nvidia-container-cli list --mig-config"] = new Effect(Cli + " --device=1", Cli + " --device=1 --mig-config=1"),
        ["nvidia-container-cli list --mig-monitor"] = new Effect(Cli + " --device=1", Cli + " --device=1 --mig-monitor=1"),
        ["nvidia-container-cli list --imex-channel"] = new Effect(Cli, Cli + " --imex-channel=0"),
        ["nvidia-container-cli list --no-persistenced"] = new Effect(Cli + " --ipcs", Cli + " --ipcs --no-persistenced"),
        ["nvidia-container-cli list --no-fabricmanager"] = new Effect(Cli + " --ipcs", Cli + " --ipcs --no-fabricmanager"),
        ["nvidia-container-cli list --no-gsp-firmware"] = new Effect(Cli + " --firmwares", Cli + " --firmwares --no-gsp-firmware"),
        ["nvidia-container-cli list --compute"] = new Effect(Cli + " --libraries", Cli + " --libraries --compute"),
        ["nvidia-container-cli list --utility"] = new Effect(Cli + " --libraries", Cli + " --libraries --utility"),
        ["nvidia-container-cli list --video"] = new Effect(Cli + " --libraries", Cli + " --libraries --video"),
        ["nvidia-container-cli list --graphics"] = new Effect(Cli + " --libraries", Cli + " --libraries --graphics"),
        ["nvidia-container-cli list --display"] = new Effect(Cli + " --libraries", Cli + " --libraries --display"),
        ["nvidia-container-cli list --ngx"] = new Effect(Cli + " --libraries", Cli + " --libraries --ngx"),

        // nvidia-cdi-hook's own options: --quiet silences the warning about a missing hook name; --debug shows what it runs.
        ["nvidia-cdi-hook --quiet"] = new Effect("nvidia-cdi-hook", "nvidia-cdi-hook --quiet"),
        ["nvidia-cdi-hook --debug"] = new Elsewhere("Hooks/CdiHookCommandTests.cs", "debug"),
        ["nvidia-cdi-hook --help"] = new Effect("nvidia-cdi-hook", "nvidia-cdi-hook --help"),

        ["gantry simulate --help"] = new Effect("gantry simulate", "gantry simulate --help"),
        ["nvidia-ctk system create-device-nodes --help"] = new Effect("nvidia-ctk system create-device-nodes --dry-run --dev-root={tmp}/empty",
            "nvidia-ctk system create-device-nodes --dry-run --dev-root={tmp}/empty --help"),
        ["nvidia-ctk system create-dev-char-symlinks --help"] = new Effect("nvidia-ctk system create-dev-char-symlinks --dry-run --dev-root={tmp}/empty",
            "nvidia-ctk system create-dev-char-symlinks --dry-run --dev-root={tmp}/empty --help"),

        ["nvidia-ctk cdi validate --host"] = new Elsewhere("Integration/CdiRefreshTests.cs", "--host"),
        ["nvidia-ctk cdi validate --driver-root"] = new Elsewhere("Integration/CdiRefreshTests.cs", "--driver-root"),
        ["nvidia-ctk cdi validate --spec-dir"] = new Effect("nvidia-ctk cdi validate --host --spec-dir={tmp}/empty", "nvidia-ctk cdi validate --host --spec-dir={tmp}/other"),

        ["nvidia-ctk info --driver-root"] = new Effect("nvidia-ctk info --driver-root={tmp}/empty", "nvidia-ctk info --driver-root={host}"),
        ["nvidia-ctk info --dev-root"] = new Effect("nvidia-ctk info --driver-root={host}", "nvidia-ctk info --driver-root={host} --dev-root={tmp}/empty"),
        ["nvidia-ctk info --swarm-resource-kind"] = new Effect("nvidia-ctk info --driver-root={host}", "nvidia-ctk info --driver-root={host} --swarm-resource-kind=GPU"),
        ["nvidia-ctk info --json"] = new Effect("nvidia-ctk info --driver-root={host}", "nvidia-ctk info --driver-root={host} --json"),
        // The runtime: --debug adds the shim's debug lines to its log (create fails here: no such bundle).
        ["nvidia-container-runtime --debug"] = new Effect("nvidia-container-runtime --log={tmp}/runtime.log --root={tmp}/runc create --bundle={tmp}/no-bundle c1",
            "nvidia-container-runtime --debug --log={tmp}/runtime.log --root={tmp}/runc create --bundle={tmp}/no-bundle c1", Reads: "{tmp}/runtime.log"),
        ["nvidia-container-runtime --bundle"] = new Elsewhere("EndToEnd/RuntimeShimTests.cs", "\"--bundle\""),
        ["nvidia-container-runtime --b"] = new Elsewhere("Runtime/RuntimeArgsTests.cs", "-b=/b"),
        ["nvidia-container-runtime --log"] = new Elsewhere("EndToEnd/RuntimeShimTests.cs", "\"--log\""),
        ["nvidia-container-runtime --log-format"] = new Elsewhere("EndToEnd/RuntimeShimTests.cs", "\"--log-format\", \"json\""),
        ["nvidia-container-runtime --root"] = new Elsewhere(["EndToEnd/ShimHost.cs", "Runtime/RuntimeArgsTests.cs"], "--root"),

        // The plugin's short flags, named as the tests write them (a bare letter would match anything).
        ["nvidia-docker-plugin --v"] = new Elsewhere("Integration/NvidiaDockerPluginTests.cs", "\"-v\""),
        ["nvidia-docker-plugin --l"] = new Elsewhere("Integration/PluginProcess.cs", "\"-l\""),
        ["nvidia-docker-plugin --d"] = new Elsewhere("Integration/PluginProcess.cs", "\"-d\""),
        ["nvidia-docker-plugin --s"] = new Elsewhere("Integration/PluginProcess.cs", "\"-s\""),
        ["nvidia-device-plugin --health-recovery"] = new Elsewhere("Kubernetes/DevicePluginProcess.cs", "DP_HEALTH_RECOVERY"),

        ["nvidia-ctk info --help"] = new Effect("nvidia-ctk info --driver-root={host}", "nvidia-ctk info --driver-root={host} --help"),
    };

    // Commands whose every flag is exercised by one test file (device nodes, containers, live hooks): each flag
    // must appear in that file.
    static readonly Dictionary<string, string[]> FilesByCommand = new()
    {
        ["nvidia-ctk system create-device-nodes"] = ["Integration/SystemCommandTests.cs"],
        ["nvidia-ctk system create-dev-char-symlinks"] = ["Integration/SystemCommandTests.cs"],
        ["gantry simulate"] = ["Integration/SimulateTests.cs", "Integration/CdiGenerateTests.cs", "Integration/CdiGenerateModeTests.cs",
            "Integration/WslTests.cs", "Simulation/NvmlStandIn.cs", "Integration/InventoryTests.cs", "Kubernetes/DevicePluginTests.cs"],
        ["nvidia-container-runtime-hook"] = ["RuntimeHook/RuntimeHookCommandTests.cs"],
        // Global options that act in configure: the live tests and the hook's end-to-end tests run them.
        ["nvidia-container-cli"] = ["Integration/ConfigureTests.cs", "EndToEnd/DockerGpusTests.Devices.cs", "Integration/ContainerCliTests.cs"],
        ["nvidia-container-cli configure"] = ["ContainerCli/ConfigureRequestTests.cs", "ContainerCli/ConfigurePlannerTests.cs", "Integration/ConfigureTests.cs"],
        ["nvidia-docker (environment)"] = ["Integration/NvidiaDockerWrapperTests.cs", "EndToEnd/NvidiaDockerTests.cs", "EndToEnd/NvidiaDockerSshTests.cs",
            "NvidiaDocker/WrapperPlannerTests.cs"],
        ["nvidia-docker (config file)"] = ["NvidiaDocker/WrapperPlannerTests.cs"],
        ["nvidia-device-plugin"] = ["Kubernetes/DevicePluginTests.cs", "Kubernetes/DevicePluginProcess.cs"],
        ["gpu-feature-discovery"] = ["Kubernetes/DevicePluginTests.cs"],
        ["nvidia-docker-plugin"] = ["Integration/NvidiaDockerPluginTests.cs", "Integration/PluginProcess.cs"],
    };

    static readonly Dictionary<string, string> HookTestFiles = new()
    {
        ["create-symlinks"] = "Hooks/CreateSymlinksHookTests.cs",
        ["update-ldcache"] = "Hooks/UpdateLdcacheHookTests.cs",
        ["enable-cuda-compat"] = "Hooks/EnableCudaCompatHookTests.cs",
        ["disable-device-node-modification"] = "Hooks/DisableDeviceNodeModificationHookTests.cs",
        ["update-application-profile"] = "Hooks/UpdateApplicationProfileHookTests.cs",
        ["chmod"] = "Hooks/ChmodHookTests.cs",
        ["chain"] = "Hooks/ChainHookTests.cs",
        ["noop"] = "Hooks/CdiHookCommandTests.cs",
        // Gantry's own child verb: its flags are written by update-ldcache, never by a user.
        ["__update-ldcache-child"] = "Hooks/LdconfigChildFallbackTests.cs",
    };

    /// <summary>The proof for a flag: its own case, or the test file of its command.</summary>
    static Case? CaseFor(string command, string flag)
    {
        if (Cases.TryGetValue($"{command} --{flag}", out var c)) return c;
        if (flag is "help" or "usage" or "version" && command.StartsWith("nvidia-c", StringComparison.Ordinal) && !command.StartsWith("nvidia-ctk", StringComparison.Ordinal))
            return new Elsewhere("Integration/VersionTests.cs", "--" + flag);
        if (FilesByCommand.TryGetValue(command, out var files)) return new Elsewhere(files, flag);
        if (command.StartsWith("nvidia-cdi-hook ", StringComparison.Ordinal))
        {
            if (flag is "help" or "container-spec") return new Elsewhere("Hooks/CdiHookCommandTests.cs", "");
            var hookName = command["nvidia-cdi-hook ".Length..];
            // Gantry's own child verb: update-ldcache writes its whole command line, which its tests run end to end.
            if (hookName == "__update-ldcache-child") return new Elsewhere(["Hooks/UpdateLdcacheEndToEndTests.cs", "Hooks/LdconfigChildFallbackTests.cs"]);
            if (HookTestFiles.TryGetValue(hookName, out var hookFile)) return new Elsewhere(hookFile, flag);
        }
        return null;
    }

    [Fact]
    public void Every_flag_of_every_command_has_a_case()
    {
        var missing = Tables().SelectMany(t => t.Flags.Select(f => (t.Command, Flag: f)))
            .Where(x => CaseFor(x.Command, x.Flag) is null).Select(x => $"{x.Command} --{x.Flag}").ToList();
        Assert.True(missing.Count == 0, "flags with no proof of an effect (add a case to FlagEffectTests): " + string.Join(", ", missing));
    }

    // The separate executables: each flag their --help lists needs a case too, proved where it says.
    [BinaryFact]
    public void Every_flag_of_the_separate_executables_has_a_case()
    {
        var missing = new List<string>();
        foreach (var name in SeparateBinaries)
        {
            var help = TestEnvironment.Run(Path.Combine(TestEnvironment.BinDir, name), "--help");
            var flags = FlagsInUsage(help.Combined);
            Assert.True(flags.Count > 3, $"{name} --help listed no flags:\n{help.Combined}");
            missing.AddRange(flags.Where(f => CaseFor(name, f) is null).Select(f => $"{name} --{f}"));
            missing.AddRange(Unnamed(name, flags));
        }
        Assert.True(missing.Count == 0, "flags with no proof of an effect (add a case to FlagEffectTests): " + string.Join(", ", missing));
    }

    [Fact]
    public void A_flag_proved_elsewhere_is_named_by_that_test_file()
    {
        var unnamed = Tables().SelectMany(t => Unnamed(t.Command, t.Flags)).ToList();
        Assert.True(unnamed.Count == 0, string.Join("\n", unnamed));
    }

    static List<string> Unnamed(string command, IEnumerable<string> flags)
    {
        var unnamed = new List<string>();
        foreach (var flag in flags)
        {
            if (CaseFor(command, flag) is not Elsewhere e) continue;
            var paths = e.TestFiles.Select(f => Path.Combine(TestEnvironment.RepoRoot, "tests/Gantry.Tests", f)).ToList();
            if (paths.FirstOrDefault(p => !File.Exists(p)) is { } gone) { unnamed.Add($"{command} --{flag}: {gone} does not exist"); continue; }
            if (e.Token.Length > 0 && !paths.Any(p => File.ReadAllText(p).Contains(e.Token, StringComparison.Ordinal)))
                unnamed.Add($"{command} --{flag}: none of {string.Join(", ", e.TestFiles)} names {e.Token}");
        }
        return unnamed;
    }

    public static TheoryData<string> RunCases() => new(Cases.Where(c => c.Value is Effect or Refused).Select(c => c.Key));

    [BinaryTheory]
    [MemberData(nameof(RunCases))]
    public void The_flag_changes_the_outcome_or_is_refused(string key)
    {
        switch (Cases[key])
        {
            case Effect e:
                var produced = e.Produces is null ? null : _host.Fill(e.Produces);
                if (produced is not null) File.Delete(produced);
                var read = e.Reads is null ? null : _host.Fill(e.Reads);
                int Lines() => read is not null && File.Exists(read) ? File.ReadAllLines(read).Length : -1;
                if (read is not null) File.Delete(read);
                var without = _host.Run(e.Without);
                var withoutLines = Lines();
                if (read is not null) File.Delete(read);
                var with = _host.Run(e.With);
                if (produced is not null) { Assert.True(File.Exists(produced), $"{key} did not write {produced}:\n{with.Combined}"); break; }
                Assert.False((without.ExitCode, without.Stdout, without.Stderr, withoutLines) == (with.ExitCode, with.Stdout, with.Stderr, Lines()),
                    $"{key} changed nothing:\n{with.Combined}");
                break;
            case Refused r:
                var refused = _host.Run(r.With);
                Assert.True(refused.ExitCode != 0, $"{key} was accepted:\n{refused.Combined}");
                Assert.Contains(r.Message, refused.Combined);
                break;
        }
    }

    /// <summary>One simulated host (2 GPUs, plain device nodes) with a config file, a spec and a spec directory.</summary>
    public sealed class Host : IDisposable
    {
        readonly TempDir _dir = new();
        readonly Dictionary<string, string> _places;
        readonly System.Net.Sockets.Socket _fabricManager;

        public Host()
        {
            var host = _dir["host"];
            var r = TestEnvironment.Run(TestEnvironment.Gantry, "simulate", host, "--gpus", "2", "--mig", "1:1", "--compat32", "--imex-channels", "1", "--device-nodes", "plain");
            Assert.True(r.ExitCode == 0, r.Combined);
            // A fabric manager socket, so that --no-fabricmanager has something to leave out.
            Directory.CreateDirectory(host + "/run/nvidia-fabricmanager");
            // Kept open: disposing the socket would remove its file.
            _fabricManager = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            _fabricManager.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(host + "/run/nvidia-fabricmanager/socket"));
            var tmp = _dir["tmp"];
            Directory.CreateDirectory(tmp + "/empty");
            Directory.CreateDirectory(tmp + "/specs");
            File.WriteAllText(tmp + "/config.toml", $"[nvidia-container-cli]\nroot = \"{host}\"\n");
            File.WriteAllText(tmp + "/devices.csv", "dev, /dev/nvidia0\n");
            var spec = TestEnvironment.Run(TestEnvironment.NvidiaCtk, "cdi", "generate", $"--driver-root={host}", "--output", tmp + "/specs/nvidia.yaml");
            Assert.True(spec.ExitCode == 0, spec.Combined);
            _places = new()
            {
                ["{host}"] = host, ["{tmp}"] = tmp, ["{config}"] = tmp + "/config.toml", ["{spec}"] = tmp + "/specs/nvidia.yaml", ["{specs}"] = tmp + "/specs",
            };
        }

        internal string Fill(string text)
        {
            foreach (var (k, v) in _places) text = text.Replace(k, v);
            return text;
        }

        internal ProcessResult Run(string commandLine)
        {
            commandLine = Fill(commandLine);
            var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var program = words[0] == "gantry" ? TestEnvironment.Gantry : Path.Combine(TestEnvironment.BinDir, words[0]);
            return TestEnvironment.Run(program, words[1..]);
        }

        public void Dispose()
        {
            _fabricManager.Dispose();
            _dir.Dispose();
        }
    }
}

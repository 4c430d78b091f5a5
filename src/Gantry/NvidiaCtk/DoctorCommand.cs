using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Common;
using Gantry.Diagnostics;
using Gantry.Engines;
using Gantry.Host;

namespace Gantry.NvidiaCtk;

// `gantry doctor`: one line per check (ok / warning / problem), the cause and the fixing command of each problem;
// --json for tools; exit 1 when a problem is found. Read-only unless --fix (safe fixes only, each change printed);
// --run starts a tiny container through each configured engine and route and says whether a GPU arrived.
internal static class DoctorCommand
{
    public static int Run(string[] args, Log log, TextWriter stdout)
    {
        var f = new FlagSet()
            .String("driver-root", "the root of the driver installation", "/", null, ["NVIDIA_CTK_DRIVER_ROOT"])
            .String("dev-root", "the root of the device nodes (default: the driver root)", null, null, ["NVIDIA_CTK_DEV_ROOT"])
            .String("proc-root", "procfs (default: the simulated host's own, else /proc)")
            .String("sys-root", "sysfs (default: the simulated host's own, else /sys)")
            .String("root", "the host root under which /etc, /usr/bin and /sbin are read", "/")
            .String("daemon-json", "Docker's daemon.json (default ROOT/etc/docker/daemon.json)")
            .String("config", "the toolkit's config.toml (default ROOT/etc/nvidia-container-runtime/config.toml)", null, ["config-file"])
            .List("cdi-spec-dir", "a CDI spec directory; repeatable (default: config.toml's spec-dirs under ROOT)")
            .String("dev-char-path", "where the /dev/char links are (default DEV-ROOT/dev/char)")
            .String("engine-path", "dockerd's PATH (default: a running dockerd's, else systemd's default)")
            .String("nvidia-cdi-hook-path", "the nvidia-cdi-hook a regenerated spec names (--fix)")
            .Bool("fix", "apply the safe fixes (/dev/char links, stale specs, the runtime in daemon.json) and say what changed")
            .Bool("run", "start a tiny container through each configured engine and route and say whether a GPU arrived")
            .String("image", "the image --run starts (default: a busybox image made from /bin/busybox)")
            .Bool("json", "print JSON")
            .Bool("help", "show help", ["h"]);
        f.Parse(args);
        if (f.GetBool("help")) { stdout.Write("USAGE: gantry doctor [options]\n\nChecks this host's GPU container set-up.\n\nOPTIONS:\n" + f.Usage()); return 0; }
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");

        var setup = new DoctorSetup
        {
            Roots = new HostRoots(f.GetOr("driver-root", "/"), f.Get("dev-root"), f.Get("proc-root"), f.Get("sys-root")),
            HostRoot = f.GetOr("root", "/"), DaemonJson = f.Get("daemon-json"), ToolkitConfig = f.Get("config"),
            CdiSpecDirs = f.IsSet("cdi-spec-dir") ? f.GetList("cdi-spec-dir") : null, DevCharDir = f.Get("dev-char-path"),
            EnginePath = f.Get("engine-path"), CdiHookPath = f.Get("nvidia-cdi-hook-path"),
        };
        var facts = DoctorFacts.Gather(setup);
        var findings = Doctor.Check(facts);
        var changes = new List<string>();
        if (f.GetBool("fix"))
        {
            changes = DoctorRepairs.Apply(findings, log);
            if (changes.Count > 0) { facts = DoctorFacts.Gather(setup); findings = Doctor.Check(facts); }
        }
        var runs = f.GetBool("run") ? Probe(facts, findings, f.Get("image"), log) : null;

        var problems = findings.Count(x => x.Status == CheckStatus.Problem);
        var warnings = findings.Count(x => x.Status == CheckStatus.Warning);
        if (f.GetBool("json"))
            stdout.WriteLine(JsonSerializer.Serialize(DoctorReport.From(findings, changes, runs, problems, warnings), DoctorJsonContext.Default.DoctorReport));
        else Print(stdout, findings, changes, runs, problems, warnings, f.GetBool("fix"));
        return problems > 0 || runs?.Any(r => !r.GpuArrived) == true ? 1 : 0;
    }

    static void Print(TextWriter w, List<Finding> findings, List<string> changes, List<RouteResult>? runs, int problems, int warnings, bool fixRan)
    {
        foreach (var c in changes) w.WriteLine($"changed  {c}");
        foreach (var x in findings)
        {
            var status = x.Status switch { CheckStatus.Ok => "ok", CheckStatus.Warning => "warning", _ => "problem" };
            w.WriteLine($"{status,-8} {x.Check,-18} {x.Summary}");
            if (x.Status == CheckStatus.Ok) continue;
            w.WriteLine($"{"",27}cause: {x.Cause}");
            w.WriteLine($"{"",27}fix:   {x.Fix}{(x.Repair is not null && !fixRan ? "   (gantry doctor --fix does this)" : "")}");
        }
        foreach (var r in runs ?? [])
        {
            w.WriteLine($"{(r.GpuArrived ? "ok" : "problem"),-8} {"run",-18} {r.Route}: {(r.GpuArrived ? "a GPU arrived" : "no GPU arrived")} ({r.Detail})");
            if (!r.GpuArrived) w.WriteLine($"{"",27}command: {r.Command}");
        }
        w.WriteLine($"{problems} problem(s), {warnings} warning(s)" + (runs is null ? "" : $", {runs.Count(r => r.GpuArrived)} of {runs.Count} route(s) gave a GPU"));
    }

    static List<RouteResult> Probe(DoctorFacts facts, List<Finding> findings, string? image, Log log)
    {
        var podman = ProcessRunner.Which("podman") is not null;
        var chosen = image ?? DefaultImage(facts, podman, log);
        var results = new List<RouteResult>();
        foreach (var p in RouteProbes.Plan(facts, findings, chosen ?? "busybox", podman))
        {
            var command = p.Engine + " " + string.Join(' ', p.Args);
            if (ProcessRunner.Which(p.Engine) is null) { results.Add(new(p.Route, command, false, $"{p.Engine} is not on PATH")); continue; }
            try
            {
                var r = ProcessRunner.Run(p.Engine, p.Args, timeout: TimeSpan.FromSeconds(60));
                var arrived = RouteProbes.Arrived(r.ExitCode, r.Stdout);
                var detail = arrived ? string.Join(" ", r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()))
                    : $"exit {r.ExitCode}: {FirstLine(r.Stderr.Length > 0 ? r.Stderr : r.Stdout)}";
                results.Add(new(p.Route, command, arrived, detail));
            }
            catch (Exception e) when (e is GantryException or System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
            {
                results.Add(new(p.Route, command, false, e.Message));
            }
        }
        return results;
    }

    const string LocalImage = "gantry-doctor-busybox:latest";

    // No registry may be reachable: a busybox image is made from this host's /bin/busybox and imported once per engine.
    static string? DefaultImage(DoctorFacts facts, bool podman, Log log)
    {
        if (BusyboxImage.Missing() is { } why) { log.Warning($"--run: {why}; give --image=IMAGE"); return null; }
        var engines = new List<string>();
        if (facts.DockerInUse && ProcessRunner.Which("docker") is not null) engines.Add("docker");
        if (podman) engines.Add("podman");
        foreach (var engine in engines)
        {
            if (ProcessRunner.Run(engine, ["image", "inspect", LocalImage]).ExitCode == 0) continue;
            var dir = Directory.CreateTempSubdirectory("gantry-doctor-image-");
            try
            {
                var tar = BusyboxImage.BuildTar(dir.FullName);
                var r = ProcessRunner.Run(engine, ["import", tar, LocalImage], timeout: TimeSpan.FromSeconds(60));
                if (r.ExitCode != 0) log.Warning($"--run: could not import {LocalImage} into {engine}: {FirstLine(r.Stderr)}");
            }
            finally { dir.Delete(recursive: true); }
        }
        return LocalImage;
    }

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
}

internal sealed record DoctorReport(List<DoctorCheckJson> Checks, int Problems, int Warnings, List<string> Changes, List<DoctorRunJson>? Runs)
{
    public static DoctorReport From(List<Finding> findings, List<string> changes, List<RouteResult>? runs, int problems, int warnings) => new(
        findings.Select(x => new DoctorCheckJson(x.Check, x.Status switch { CheckStatus.Ok => "ok", CheckStatus.Warning => "warning", _ => "problem" },
            x.Summary, x.Cause, x.Fix, x.Repair is not null)).ToList(),
        problems, warnings, changes, runs?.Select(r => new DoctorRunJson(r.Route, r.Command, r.GpuArrived, r.Detail)).ToList());
}

internal sealed record DoctorCheckJson(string Name, string Status, string Summary, string? Cause, string? Fix, bool Fixable);

internal sealed record DoctorRunJson(string Route, string Command, bool GpuArrived, string Detail);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DoctorReport))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;

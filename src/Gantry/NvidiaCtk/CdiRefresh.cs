using Gantry.Cdi;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.NvidiaCtk;

// `nvidia-ctk cdi refresh`: what the nvidia-cdi-refresh units run after a driver install or upgrade (and what a
// MIG tool runs after changing the layout). It generates the spec as `cdi generate` would, with the same flags and
// environment, into /var/run/cdi/nvidia.yaml by default, and replaces the file atomically only when the content
// changed, so engines that watch the directory see one change or none.
internal static class CdiRefresh
{
    public const string DefaultOutput = "/var/run/cdi/nvidia.yaml";

    public static int Run(string[] args, Log log, string? toolkitConfig)
    {
        var f = CdiGenerateCommand.Flags().Parse(args);
        if (f.GetBool("help"))
        {
            Console.WriteLine("USAGE: nvidia-ctk cdi refresh [options]\n\nRegenerates the CDI spec (as 'cdi generate') and replaces --output only when it changed.\n\n" +
                              $"OPTIONS (those of 'cdi generate'; --output defaults to {DefaultOutput}):\n" + f.Usage());
            return 0;
        }
        var output = f.Get("output") is { Length: > 0 } o && o != "-" ? o : DefaultOutput;
        var format = f.IsSet("format") ? (f.GetOr("format", "yaml") == "json" ? SpecFormat.Json : SpecFormat.Yaml) : SpecFormat.Yaml;
        var (path, _) = SpecWriter.ResolveOutput(output, format, f.IsSet("format"), log);

        // Generated away from every spec directory, then compared: a half-written or unchanged spec is never seen.
        var scratch = Directory.CreateTempSubdirectory("gantry-cdi-refresh-");
        try
        {
            var fresh = Path.Combine(scratch.FullName, Path.GetFileName(path));
            var generateArgs = args.Where(a => !IsOutputFlag(a)).ToList();
            generateArgs = WithoutOutputValue(generateArgs);
            var quiet = new Log(Console.Error, LogLevel.Warning);
            var code = CdiGenerateCommand.Run([.. generateArgs, $"--output={fresh}"], quiet, toolkitConfig);
            if (code != 0) return code;
            Install(fresh, path, log);
            // enable-coherent-annotations writes the split specs beside the main one; a split that has no devices any
            // more goes, so engines do not keep offering GPUs by a coherence they no longer have.
            foreach (var infix in new[] { Cdi.Generate.CoherenceSplit.CoherentInfix, Cdi.Generate.CoherenceSplit.NoncoherentInfix })
            {
                var (freshSplit, split) = (Cdi.Generate.CoherenceSplit.WithInfix(fresh, infix)!, Cdi.Generate.CoherenceSplit.WithInfix(path, infix)!);
                if (File.Exists(freshSplit)) Install(freshSplit, split, log);
                else if (File.Exists(split) && SplitRequested(f))
                {
                    File.Delete(split);
                    log.Info($"Removed CDI spec {split}: no GPU of that coherence any more");
                }
            }
            return 0;
        }
        finally
        {
            try { scratch.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // Replaces path by fresh's content only when it differs, atomically.
    static void Install(string fresh, string path, Log log)
    {
        var content = File.ReadAllBytes(fresh);
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(content))
        {
            log.Info($"CDI spec {path} is current");
            return;
        }
        var before = File.Exists(path) && SpecFile.TryRead(path, out var old, out _) ? SpecHostCheck.DriverOf(Edits(old)) : null;
        AtomicFile.Write(path, content, (UnixFileMode)0b110_100_100);
        var after = SpecFile.TryRead(path, out var now, out _) ? SpecHostCheck.DriverOf(Edits(now)) : null;
        log.Info(before is null ? $"Wrote CDI spec {path} (driver {after ?? "unknown"})"
            : $"Refreshed CDI spec {path}" + (before != after ? $" (driver {before} -> {after})" : " (devices or files changed)"));
    }

    static bool SplitRequested(FlagSet f) =>
        Cdi.Generate.NvcdiFeatures.Parse(f.GetList("feature-flag"), "--feature-flag", Log.Silent).SplitByCoherence;

    static IEnumerable<Edits.ContainerEdits> Edits(Spec spec) =>
        spec.Devices.Select(d => d.ContainerEdits).Prepend(spec.ContainerEdits ?? new Edits.ContainerEdits());

    static bool IsOutputFlag(string a) => a.StartsWith("--output=", StringComparison.Ordinal) || a.StartsWith("-output=", StringComparison.Ordinal);

    // "--output X" as two words: both go.
    static List<string> WithoutOutputValue(List<string> args)
    {
        var kept = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--output" or "-output") { i++; continue; }
            kept.Add(args[i]);
        }
        return kept;
    }
}

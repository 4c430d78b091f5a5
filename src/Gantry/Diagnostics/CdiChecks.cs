using System.Text.RegularExpressions;
using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Host;

namespace Gantry.Diagnostics;

// The CDI spec directories as engines read them: specs present, valid, not stale after a driver upgrade (files
// they name are gone, or they name another driver version's libraries), no device defined in two directories.
internal static partial class CdiChecks
{
    public static IEnumerable<Finding> Run(DoctorFacts facts)
    {
        var dirs = facts.Setup.CdiSpecDirs ?? facts.EffectiveConfig.NvidiaContainerRuntime.CdiSpecDirs.Select(facts.Setup.InHost).ToList();
        var registry = SpecRegistry.Load(dirs);
        var findings = new List<Finding>();
        var generate = $"nvidia-ctk cdi generate{facts.Setup.RootFlags}";

        foreach (var group in registry.Errors.GroupBy(e => e.File))
        {
            var file = group.Key;
            var first = group.First().Message;
            if (first.StartsWith("conflicting device", StringComparison.Ordinal))
                findings.Add(Finding.Problem("cdi-specs", $"{file} defines a device another spec in its directory defines too",
                    $"{first}: engines offer neither definition, so asking for that device fails.", $"rm {file}"));
            else
                findings.Add(Finding.Problem("cdi-specs", $"{file} is not a valid CDI spec",
                    $"{group.First()}; engines skip the file (and some refuse every CDI device while it is there).",
                    Path.GetFileName(file).Contains("nvidia", StringComparison.Ordinal) ? $"{generate} --output={file}" : $"mv {file} {file}.broken"));
        }

        var nvidiaSpecs = registry.Specs.Where(s => s.Spec.Kind.StartsWith("nvidia.com/", StringComparison.Ordinal)).ToList();
        foreach (var spec in nvidiaSpecs)
            if (Stale(spec.Spec, facts.Inventory?.Version) is { } why)
                findings.Add(Finding.Problem("cdi-specs", $"{spec.Path} is stale", $"{why}, so containers given its devices fail to start or get the wrong driver.",
                    $"{generate} --output={spec.Path}") with { Repair = facts.Inventory is null ? null : new RegenerateSpec(spec.Path, spec.Spec.Kind, facts.Setup.Roots, facts.Setup.CdiHookPath ?? HookFactory.ResolvePath(null)) });

        foreach (var pair in registry.Specs.SelectMany(s => s.Spec.Devices.Select(d => (Name: QualifiedName.Of(s.Spec.Kind, d.Name), Spec: s)))
                     .GroupBy(x => x.Name).Where(g => g.Select(x => x.Spec.Priority).Distinct().Count() > 1)
                     .GroupBy(g => string.Join("\n", g.Select(x => x.Spec.Path).Distinct())))
        {
            var specs = pair.First().Select(x => x.Spec).DistinctBy(s => s.Path).OrderBy(s => s.Priority).ToList();
            var names = pair.Select(g => g.Key).ToList();
            findings.Add(Finding.Problem("cdi-specs", $"{names.Count} device(s) defined in both {specs[0].Path} and {specs[^1].Path}",
                $"{names[0]}{(names.Count > 1 ? $" and {names.Count - 1} more" : "")} come from {specs[^1].Path} (the later directory wins), so {specs[0].Path} is ignored and regenerating it changes nothing.",
                $"rm {specs[0].Path}"));
        }

        var devices = registry.DeviceNames.Count(n => n.StartsWith("nvidia.com/gpu=", StringComparison.Ordinal));
        var output = Path.Combine(dirs.FirstOrDefault() ?? facts.Setup.InHost("/etc/cdi"), "nvidia.yaml");
        if (devices == 0)
            findings.Add(facts.EffectiveConfig.NvidiaContainerRuntime.Mode == "cdi"
                ? Finding.Problem("cdi-specs", $"no nvidia.com/gpu devices in {string.Join(", ", dirs)}",
                    "the runtime's mode is cdi, so every GPU request fails with \"unresolvable CDI devices\".", $"{generate} --output={output}")
                : Finding.Warning("cdi-specs", $"no nvidia.com/gpu devices in {string.Join(", ", dirs)}",
                    "`--device nvidia.com/gpu=all` (Docker 25+, Podman, CRI-O, containerd) has nothing to resolve; the runtime's own routes still work.",
                    $"{generate} --output={output}"));
        if (findings.Count == 0)
            findings.Add(Finding.Ok("cdi-specs", $"{devices} nvidia.com/gpu device(s) in {nvidiaSpecs.Count} spec(s), current"));
        return findings;
    }

    /// <summary>Why a spec no longer describes this host, or null: a file it names is gone, or its libraries are another driver version's.</summary>
    internal static string? Stale(Spec spec, string? driverVersion) =>
        SpecHostCheck.Cause(spec.Devices.Select(d => d.ContainerEdits).Prepend(spec.ContainerEdits ?? new()), driverVersion);

}

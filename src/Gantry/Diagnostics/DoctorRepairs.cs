using Gantry.Cdi;
using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Engines.Configure;
using Gantry.Host;

namespace Gantry.Diagnostics;

// `gantry doctor --fix`: applies the repairs the findings carry (only safe ones exist: /dev/char links are added,
// never replaced when something else is there; a stale spec is rewritten atomically; daemon.json is edited as
// `nvidia-ctk runtime configure` edits it, with a backup) and says, one line each, what changed.
internal static class DoctorRepairs
{
    public static List<string> Apply(IEnumerable<Finding> findings, Log log)
    {
        var changes = new List<string>();
        foreach (var f in findings.Where(f => f.Repair is not null && f.Status != CheckStatus.Ok))
        {
            try
            {
                switch (f.Repair)
                {
                    case LinkDevChar l: changes.AddRange(Link(l)); break;
                    case RegenerateSpec r: changes.Add(Regenerate(r, log)); break;
                    case RegisterRuntime r: changes.AddRange(Register(r, log)); break;
                }
            }
            catch (Exception e) when (e is GantryException or IOException or UnauthorizedAccessException)
            {
                changes.Add($"could not fix {f.Check}: {e.Message}");
            }
        }
        return changes;
    }

    static IEnumerable<string> Link(LinkDevChar l)
    {
        Directory.CreateDirectory(l.LinkDir);
        foreach (var n in l.Nodes)
        {
            var link = Path.Combine(l.LinkDir, $"{n.Major}:{n.Minor}");
            if (FileStatus.TryLstat(link, out var st))
            {
                if (!st.IsSymlink) { yield return $"left {link} alone: it exists and is not a link"; continue; }
                File.Delete(link);
            }
            File.CreateSymbolicLink(link, n.Path);
            yield return $"created {link} -> {n.Path}";
        }
    }

    static string Regenerate(RegenerateSpec r, Log log)
    {
        var inv = DriverDiscovery.Discover(r.Roots, new DiscoveryOptions(), Log.Silent);
        var slash = r.Kind.IndexOf('/');
        var spec = SpecGenerator.Generate(inv, new HookFactory(r.HookPath, [], []), new GenerateOptions
        {
            Vendor = slash > 0 ? r.Kind[..slash] : "nvidia.com", Class = slash > 0 ? r.Kind[(slash + 1)..] : "gpu",
        });
        var format = SpecFile.FormatOf(r.File) ?? SpecFormat.Yaml;
        SpecWriter.Write(spec, r.File, format, formatExplicit: true, log);
        return $"regenerated {r.File} for driver {inv.Version} ({spec.Devices.Count} devices)";
    }

    static IEnumerable<string> Register(RegisterRuntime r, Log log)
    {
        var o = new ConfigureOptions(EngineKind.Docker, r.DaemonJson, "", r.RuntimeName, r.RuntimePath);
        var existed = File.Exists(r.DaemonJson);
        var changed = false;
        foreach (var c in RuntimeConfigurer.Plan(o, null, log)) changed |= EngineFile.Apply(c, Log.Silent);
        if (changed)
            yield return $"registered runtime {r.RuntimeName} -> {r.RuntimePath} in {r.DaemonJson}" +
                         (existed ? $" (the old file is kept as {EngineFile.BackupOf(r.DaemonJson)})" : "") + "; restart Docker: systemctl restart docker";
    }
}

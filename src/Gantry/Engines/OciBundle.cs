using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Engines;

// An OCI bundle for runc/crun made from the busybox image: `runc spec` for a default config.json, no terminal,
// a private rootfs per bundle. Tests and the benchmark drive the shim and plain runc with it.
internal static class OciBundle
{
    /// <summary>Writes DIR/rootfs and DIR/config.json running `sh -c script` with the extra env.</summary>
    public static void Create(string dir, string script, IEnumerable<string>? env = null)
    {
        Directory.CreateDirectory(dir);
        if (!Directory.Exists(Path.Combine(dir, "rootfs"))) BusyboxImage.BuildTar(dir);
        var config = Path.Combine(dir, "config.json");
        if (File.Exists(config)) File.Delete(config);
        var r = ProcessRunner.Run("runc", ["spec", "--bundle", dir]);
        if (r.ExitCode != 0) throw new GantryException($"runc spec failed in {dir}: {r.Combined.Trim()}");
        var spec = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        var process = spec["process"]!.AsObject();
        process["terminal"] = false;
        process["args"] = new JsonArray("sh", "-c", script);
        var list = process["env"]!.AsArray();
        foreach (var e in env ?? []) list.Add((JsonNode)JsonValue.Create(e));
        spec["root"]!.AsObject()["readonly"] = false;
        File.WriteAllText(config, spec.ToJsonString());
    }
}

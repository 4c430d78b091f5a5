using System.Text.Json.Nodes;
using Gantry.Common;

namespace Gantry.Engines.Configure;

// The deprecated OCI-hook mode: a hooks.d JSON file that runs nvidia-container-runtime-hook before every container.
internal static class OciHook
{
    const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static string Render(string hookPath)
    {
        var dir = Path.GetDirectoryName(hookPath) ?? "/usr/bin";
        var path = DefaultPath.Split(':').Contains(dir) ? DefaultPath : DefaultPath + ":" + dir;
        var hook = new JsonObject
        {
            ["version"] = "1.0.0",
            ["hook"] = new JsonObject
            {
                ["path"] = hookPath,
                ["args"] = new JsonArray("nvidia-container-runtime-hook", "prestart"),
                ["env"] = new JsonArray("PATH=" + path),
            },
            ["when"] = new JsonObject { ["always"] = true, ["commands"] = new JsonArray(".*") },
            ["stages"] = new JsonArray("prestart"),
        };
        var ms = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms, new System.Text.Json.JsonWriterOptions { Indented = true, IndentSize = 2 }))
            hook.WriteTo(w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    public static int Run(string output, string hookPath, bool dryRun, bool undo, Log log, TextWriter stdout)
    {
        log.Warning("The oci-hook config mode is deprecated; prefer configuring the runtime");
        if (!Path.IsPathRooted(hookPath)) throw new UsageException($"the hook path must be absolute: {hookPath}");
        if (undo)
        {
            if (output.Length > 0 && !dryRun && File.Exists(output)) { File.Delete(output); log.Info($"Removed {output}"); }
            return 0;
        }
        var text = Render(hookPath);
        if (dryRun || output.Length == 0) { stdout.Write(text); return 0; }
        EngineFile.Apply(new FileChange(output, text), log);
        return 0;
    }
}

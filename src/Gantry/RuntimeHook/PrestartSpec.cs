using System.Text.Json;
using System.Text.Json.Nodes;
using Gantry.Common;
using Gantry.Requests;

namespace Gantry.RuntimeHook;

// The parts of <bundle>/config.json the prestart hook reads: the container's env, mounts and privilege, and its
// root path. Like the original it needs ociVersion, process and root, and ignores everything else, so a spec
// field it does not know never stops a container.
internal sealed record PrestartSpec(ContainerFacts Facts, string RootPath)
{
    public static PrestartSpec Load(string bundle)
    {
        var path = Path.Combine(bundle, "config.json");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GantryException($"cannot read the OCI spec {path}: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    public static PrestartSpec Parse(ReadOnlySpan<byte> json, string path)
    {
        try
        {
            var root = JsonNode.Parse(json) as JsonObject ?? throw Bad(path, "it is not a JSON object");
            var version = Str(root, "ociVersion") ?? throw Bad(path, "ociVersion is missing");
            var process = root["process"] as JsonObject ?? throw Bad(path, "process is missing");
            var rootObject = root["root"] as JsonObject ?? throw Bad(path, "root is missing");
            var rootPath = Str(rootObject, "path") is { Length: > 0 } p ? p : throw Bad(path, "root.path is empty");
            var env = Strings(process["env"], path, "process.env");
            var mounts = root["mounts"] is JsonArray ms
                ? ms.Select(m => m as JsonObject ?? throw Bad(path, "mounts must be a list of objects"))
                    .Select(m => (Str(m, "source") ?? "", Str(m, "destination") ?? "")).ToList()
                : [];
            var noAnnotations = new Dictionary<string, string>(); // the hook honours no CDI annotations
            return new PrestartSpec(new ContainerFacts(env, mounts, noAnnotations, IsPrivileged(process, version, path)), rootPath);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new GantryException($"cannot decode the OCI spec {path}: {e.Message}", e);
        }
    }

    // CAP_SYS_ADMIN in the bounding set; runtime-spec 1.0.0-rc1 to -rc4 had one flat capability list instead.
    static bool IsPrivileged(JsonObject process, string version, string path)
    {
        var caps = process["capabilities"];
        if (caps is null) return false;
        var list = caps switch
        {
            JsonArray flat when IsFlatCapabilityVersion(version) => flat,
            JsonObject o => o["bounding"],
            _ => throw Bad(path, "process.capabilities has the wrong shape for ociVersion " + version),
        };
        return Strings(list, path, "process.capabilities").Contains("CAP_SYS_ADMIN");
    }

    static bool IsFlatCapabilityVersion(string version) =>
        version.StartsWith("1.0.0-rc", StringComparison.Ordinal) && version.Length > 8 && version[8] is >= '1' and <= '4';

    static List<string> Strings(JsonNode? node, string path, string what)
    {
        if (node is null) return [];
        if (node is not JsonArray a || a.Any(i => i?.GetValueKind() != JsonValueKind.String))
            throw Bad(path, $"{what} must be a list of strings");
        return a.Select(i => i!.GetValue<string>()).ToList();
    }

    static string? Str(JsonObject o, string key) => o[key]?.GetValueKind() == JsonValueKind.String ? o[key]!.GetValue<string>() : null;

    static GantryException Bad(string path, string why) => new($"the OCI spec {path} is not usable: {why}");
}

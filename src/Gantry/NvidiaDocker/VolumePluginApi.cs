using System.Text.Json;
using Gantry.Common;

namespace Gantry.NvidiaDocker;

// The Docker volume plugin protocol (POST /Plugin.Activate, /VolumeDriver.*) over the driver volume. Docker must
// ask for plugin API v1.1 or v1.2 in Accept (else 406); replies are JSON with "Err": null or the error message.
internal sealed class VolumePluginApi(VolumeStore store, string driverVersion, Log log)
{
    public const string ContentType = "application/vnd.docker.plugins.v1+json";
    static readonly string[] AcceptedApis = ["application/vnd.docker.plugins.v1.1+json", "application/vnd.docker.plugins.v1.2+json"];

    static readonly HashSet<string> Endpoints =
    [
        "/Plugin.Activate", "/VolumeDriver.Create", "/VolumeDriver.Remove", "/VolumeDriver.Mount", "/VolumeDriver.Path",
        "/VolumeDriver.Unmount", "/VolumeDriver.Get", "/VolumeDriver.List", "/VolumeDriver.Capabilities",
    ];

    static NvidiaDockerJsonContext Json => NvidiaDockerJson.Types;

    public HttpReply Handle(string method, string path, string? accept, ReadOnlySpan<byte> body)
    {
        if (accept is null || !AcceptedApis.Contains(accept))
        {
            log.Info($"Unsupported plugin API {accept}");
            return new HttpReply(406, null, []);
        }
        if (method != "POST" || !Endpoints.Contains(path)) return HttpReply.NotFound;
        try
        {
            return path switch
            {
                "/Plugin.Activate" => Activate(),
                "/VolumeDriver.List" => List(),
                "/VolumeDriver.Capabilities" => Reply(new PluginCapabilitiesReply(new PluginCapabilities("local")), Json.PluginCapabilitiesReply),
                _ => Volume(path, Name(body)),
            };
        }
        catch (Exception e) when (e is JsonException or GantryException or IOException or UnauthorizedAccessException)
        {
            log.Error($"{path}: {e.Message}");
            return HttpReply.InternalError;
        }
    }

    HttpReply Activate()
    {
        log.Info("Received activate request");
        log.Info("Plugins activated [VolumeDriver]");
        return Reply(new PluginActivateReply(["VolumeDriver"]), Json.PluginActivateReply);
    }

    HttpReply List()
    {
        var volumes = store.Versions().Select(v => new PluginVolume(DriverVolume.VolumeName(v), store.PathOf(v))).ToList();
        return Reply(new PluginListReply(volumes.Count == 0 ? null : volumes, null), Json.PluginListReply);
    }

    HttpReply Volume(string path, string name)
    {
        var verb = path["/VolumeDriver.".Length..];
        if (verb != "Get") log.Info($"Received {verb.ToLowerInvariant()} request for volume '{name}'");
        var valid = DriverVolume.TryParse(name, out var version, out var error);
        switch (verb)
        {
            case "Create":
                if (valid && version != driverVersion) error = VolumeErrors.WrongVersion(name);
                else if (valid) store.Create(version!);
                return Reply(new PluginErrorReply(error), Json.PluginErrorReply);
            case "Remove":
                if (valid) store.Remove(version!);
                return Reply(new PluginErrorReply(error), Json.PluginErrorReply);
            case "Unmount":
                return Reply(new PluginErrorReply(error), Json.PluginErrorReply);
            case "Mount" or "Path":
                if (valid && !store.Exists(version!)) error = VolumeErrors.NotFound(name);
                return Reply(new PluginMountReply(error is null ? store.PathOf(version!) : null, error), Json.PluginMountReply);
            default: // Get
                if (valid && !store.Exists(version!)) error = VolumeErrors.NotFound(name);
                var volume = error is null ? new PluginVolume(name, store.PathOf(version!)) : null;
                return Reply(new PluginGetReply(volume, error), Json.PluginGetReply);
        }
    }

    /// <summary>The request's Name; a body that is not a JSON object with a string Name fails the request.</summary>
    static string Name(ReadOnlySpan<byte> body) =>
        JsonSerializer.Deserialize(body, Json.PluginRequest)?.Name ?? "";

    static HttpReply Reply<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        new(200, ContentType, NvidiaDockerJson.Encode(value, info));
}

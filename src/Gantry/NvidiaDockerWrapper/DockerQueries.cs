using System.Text.Json;
using Gantry.Host;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>The labels nvidia-docker 1.0 reads from an image ("" when absent).</summary>
internal sealed record ImageLabels(string VolumesNeeded, string CudaVersion)
{
    public const string VolumesNeededLabel = "com.nvidia.volumes.needed";
    public const string CudaVersionLabel = "com.nvidia.cuda.version";

    /// <summary>The volumes the image asks for: the label split on single spaces; none when the label is empty.</summary>
    public IReadOnlyList<string> Volumes => VolumesNeeded.Length == 0 ? [] : VolumesNeeded.Split(' ');
}

/// <summary>What the wrapper asks the Docker daemon before it runs docker.</summary>
internal interface IDockerQueries
{
    /// <summary>The image's labels; null when the image is not there (or the daemon could not tell).</summary>
    ImageLabels? Labels(string image);

    /// <summary>
    /// Starts asking for the volumes whose names start with prefix; the function returned waits for the answer
    /// and tells whether a volume of exactly that name exists. The daemon works on the question meanwhile.
    /// </summary>
    Func<string, bool> VolumeLookup(string prefix);
}

// Straight to the daemon's API on its unix socket: a few milliseconds instead of a docker process per question.
internal sealed class DockerSocketQueries(string socketPath) : IDockerQueries
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public ImageLabels? Labels(string image)
    {
        var r = Get($"/images/{EscapePath(image)}/json");
        if (r.Status != 200) return null;
        using var doc = JsonDocument.Parse(r.Body);
        if (!doc.RootElement.TryGetProperty("Config", out var config) || config.ValueKind != JsonValueKind.Object
            || !config.TryGetProperty("Labels", out var labels) || labels.ValueKind != JsonValueKind.Object)
            return new ImageLabels("", "");
        string Label(string name) => labels.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!.Trim(' ', '\n') : "";
        return new ImageLabels(Label(ImageLabels.VolumesNeededLabel), Label(ImageLabels.CudaVersionLabel));
    }

    public Func<string, bool> VolumeLookup(string prefix)
    {
        // A name filter is a pattern Docker looks for anywhere in the name; the exact names are compared here.
        var filters = Uri.EscapeDataString($"{{\"name\":[\"{prefix}\"]}}");
        var pending = Send($"/volumes?filters={filters}");
        HashSet<string>? names = null;
        return name =>
        {
            names ??= VolumeNames(Receive(pending), prefix);
            return names.Contains(name);
        };
    }

    static HashSet<string> VolumeNames(MiniHttpResponse r, string prefix)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (r.Status != 200) return names;
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("Volumes", out var volumes) && volumes.ValueKind == JsonValueKind.Array)
                foreach (var v in volumes.EnumerateArray())
                    if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("Name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString()!.StartsWith(prefix, StringComparison.Ordinal))
                        names.Add(n.GetString()!);
        }
        catch (JsonException) { }
        return names;
    }

    MiniHttpResponse Get(string path) => Receive(Send(path));

    /// <summary>A request on its way: the connection to read the answer from, or the error that stopped it.</summary>
    sealed record Pending(Stream? Stream, MiniHttpResponse? Failure);

    Pending Send(string path)
    {
        Stream? stream = null;
        try
        {
            stream = MiniHttp.ConnectUnix(socketPath, Timeout);
            MiniHttp.Send(stream, "docker", path);
            return new Pending(stream, null);
        }
        catch (Exception e) when (IsConnectionError(e))
        {
            stream?.Dispose();
            return new Pending(null, Unreachable(e));
        }
    }

    static MiniHttpResponse Receive(Pending pending)
    {
        if (pending.Failure is not null) return pending.Failure;
        try
        {
            return MiniHttp.Receive(pending.Stream!);
        }
        catch (Exception e) when (IsConnectionError(e)) { return Unreachable(e); }
        finally { pending.Stream!.Dispose(); }
    }

    static bool IsConnectionError(Exception e) => e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException;

    // As with `docker inspect`, an unreachable daemon reads as "not there"; docker itself then says why.
    static MiniHttpResponse Unreachable(Exception e) => new(0, e.Message);

    /// <summary>Percent-encodes what may not stand in a URL path; keeps "/", ":" and "@" of image references.</summary>
    static string EscapePath(string s) => string.Concat(s.Select(c =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or '/' or ':' or '@' ? c.ToString() : Uri.EscapeDataString(c.ToString())));
}

// Through the docker command (NV_DOCKER, with the same global options as the user's command): for "sudo docker",
// TCP or TLS daemons and contexts, where only the CLI knows how to reach the daemon.
internal sealed class DockerCliQueries(IReadOnlyList<string> docker, IReadOnlyList<string> globalOptions) : IDockerQueries
{
    const string Format = "{{index .Config.Labels \"" + ImageLabels.VolumesNeededLabel + "\"}}\n{{index .Config.Labels \"" + ImageLabels.CudaVersionLabel + "\"}}";

    public ImageLabels? Labels(string image)
    {
        var r = Run("inspect", "--type=image", "--format=" + Format, image);
        if (r.ExitCode != 0) return null;
        var lines = r.Stdout.Split('\n');
        static string Clean(string s) => s.Trim(' ', '\r') is "<no value>" ? "" : s.Trim(' ', '\r');
        return new ImageLabels(Clean(lines[0]), lines.Length > 1 ? Clean(lines[1]) : "");
    }

    public Func<string, bool> VolumeLookup(string prefix) => name => Run("volume", "inspect", name).ExitCode == 0;

    ProcessResult Run(params string[] args) =>
        ProcessRunner.Run(DockerLookup.Resolve(docker[0]), [.. docker.Skip(1), .. globalOptions, .. args], timeout: TimeSpan.FromMinutes(1));
}

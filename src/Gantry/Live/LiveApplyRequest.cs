using System.Buffers;
using System.Text.Json;
using Gantry.Edits;

namespace Gantry.Live;

/// <summary>What the parent hands the applier child on its stdin (one JSON line).</summary>
internal sealed class LiveApplyRequest
{
    public int Pid { get; set; }
    public bool Standalone { get; set; }
    public string Rootfs { get; set; } = "";
    public ulong StartTime { get; set; }
    public bool Debug { get; set; }
    public LivePlan Plan { get; set; } = new();
}

// The request as one JSON line, written and read by hand: the serializer's source-generated metadata for the
// plan's types cost ~3 ms to build in each process (the parent's write and the child's read), more than the
// rest of the child's work before its first mount. Both ends are this executable, so only what it writes is read.
internal static class LiveApplyRequestJson
{
    public static byte[] Write(LiveApplyRequest r)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("pid", r.Pid);
            w.WriteBoolean("standalone", r.Standalone);
            w.WriteString("rootfs", r.Rootfs);
            w.WriteNumber("startTime", r.StartTime);
            w.WriteBoolean("debug", r.Debug);
            w.WriteStartObject("plan");
            var p = r.Plan;
            Array(w, "mounts", p.Mounts, (w, m) =>
            {
                w.WriteString("hostPath", m.HostPath);
                w.WriteString("containerPath", m.ContainerPath);
                if (m.Options is { } o) Strings(w, "options", o);
                if (m.Type is { } t) w.WriteString("type", t);
            });
            Array(w, "deviceNodes", p.DeviceNodes, (w, d) =>
            {
                w.WriteString("path", d.Path);
                if (d.HostPath is { } h) w.WriteString("hostPath", h);
                if (d.Type is { } t) w.WriteString("type", t);
                if (d.Major is { } major) w.WriteNumber("major", major);
                if (d.Minor is { } minor) w.WriteNumber("minor", minor);
                if (d.FileMode is { } mode) w.WriteNumber("fileMode", mode);
                if (d.Permissions is { } perms) w.WriteString("permissions", perms);
                if (d.Uid is { } uid) w.WriteNumber("uid", uid);
                if (d.Gid is { } gid) w.WriteNumber("gid", gid);
            });
            w.WriteBoolean("bindDevices", p.BindDevices);
            Array(w, "files", p.Files, (w, f) =>
            {
                w.WriteString("containerPath", f.ContainerPath);
                w.WriteString("content", f.Content);
                w.WriteNumber("mode", f.Mode);
            });
            Array(w, "containerBinds", p.ContainerBinds, (w, b) =>
            {
                w.WriteString("source", b.Source);
                w.WriteString("containerPath", b.ContainerPath);
            });
            Array(w, "symlinks", p.Symlinks, (w, s) =>
            {
                w.WriteString("path", s.Path);
                w.WriteString("target", s.Target);
            });
            if (p.Ldconfig is { } l)
            {
                w.WriteStartObject("ldconfig");
                w.WriteString("path", l.Path);
                w.WriteBoolean("fromHost", l.FromHost);
                Strings(w, "folders", l.Folders);
                w.WriteBoolean("noPivot", l.NoPivot);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The request from its JSON line; JsonException (or InvalidOperationException for a wrong type) when malformed.</summary>
    public static LiveApplyRequest Read(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var o = doc.RootElement;
        var p = o.GetProperty("plan");
        return new LiveApplyRequest
        {
            Pid = o.GetProperty("pid").GetInt32(),
            Standalone = o.GetProperty("standalone").GetBoolean(),
            Rootfs = o.GetProperty("rootfs").GetString()!,
            StartTime = o.GetProperty("startTime").GetUInt64(),
            Debug = o.GetProperty("debug").GetBoolean(),
            Plan = new LivePlan
            {
                Edits = new ContainerEdits
                {
                    Mounts = List(p, "mounts", m => new Mount
                    {
                        HostPath = m.GetProperty("hostPath").GetString()!,
                        ContainerPath = m.GetProperty("containerPath").GetString()!,
                        Options = m.TryGetProperty("options", out var options) ? Strings(options) : null,
                        Type = OptionalString(m, "type"),
                    }),
                    DeviceNodes = List(p, "deviceNodes", d => new DeviceNode
                    {
                        Path = d.GetProperty("path").GetString()!,
                        HostPath = OptionalString(d, "hostPath"),
                        Type = OptionalString(d, "type"),
                        Major = d.TryGetProperty("major", out var major) ? major.GetInt64() : null,
                        Minor = d.TryGetProperty("minor", out var minor) ? minor.GetInt64() : null,
                        FileMode = d.TryGetProperty("fileMode", out var mode) ? mode.GetUInt32() : null,
                        Permissions = OptionalString(d, "permissions"),
                        Uid = d.TryGetProperty("uid", out var uid) ? uid.GetUInt32() : null,
                        Gid = d.TryGetProperty("gid", out var gid) ? gid.GetUInt32() : null,
                    }),
                },
                BindDevices = p.GetProperty("bindDevices").GetBoolean(),
                Files = List(p, "files", f => new LiveFile
                {
                    ContainerPath = f.GetProperty("containerPath").GetString()!,
                    Content = f.GetProperty("content").GetString()!,
                    Mode = f.GetProperty("mode").GetInt32(),
                }),
                ContainerBinds = List(p, "containerBinds", b => new LiveContainerBind
                {
                    Source = b.GetProperty("source").GetString()!, ContainerPath = b.GetProperty("containerPath").GetString()!,
                }),
                Symlinks = List(p, "symlinks", s => new LiveSymlink { Path = s.GetProperty("path").GetString()!, Target = s.GetProperty("target").GetString()! }),
                Ldconfig = p.TryGetProperty("ldconfig", out var l)
                    ? new LiveLdconfig
                    {
                        Path = l.GetProperty("path").GetString()!, FromHost = l.GetProperty("fromHost").GetBoolean(),
                        Folders = Strings(l.GetProperty("folders")), NoPivot = l.GetProperty("noPivot").GetBoolean(),
                    }
                    : null,
            },
        };
    }

    static void Array<T>(Utf8JsonWriter w, string name, List<T> items, Action<Utf8JsonWriter, T> body)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStartObject();
            body(w, item);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    static void Strings(Utf8JsonWriter w, string name, List<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    static List<T> List<T>(JsonElement o, string name, Func<JsonElement, T> item) => o.GetProperty(name).EnumerateArray().Select(item).ToList();

    static List<string> Strings(JsonElement a) => a.EnumerateArray().Select(e => e.GetString()!).ToList();

    static string? OptionalString(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? v.GetString() : null;
}

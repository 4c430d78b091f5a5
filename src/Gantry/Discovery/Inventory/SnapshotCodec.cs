using System.Text.Json;

namespace Gantry.Discovery.Inventory;

/// <summary>
/// An <see cref="NvmlSnapshot"/> with the signals it was taken under, as JSON written and read by hand (no
/// serializer metadata to build at every container start). Decoding never throws: anything unexpected is null.
/// </summary>
internal static class SnapshotCodec
{
    public const int FormatVersion = 3;

    public static byte[] Encode(string signals, NvmlSnapshot snapshot)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", FormatVersion);
            w.WriteString("signals", signals);
            w.WriteString("driver", snapshot.DriverVersion);
            w.WriteNumber("cuda", snapshot.CudaDriverVersion);
            w.WriteStartArray("gpus");
            foreach (var g in snapshot.Gpus)
            {
                w.WriteStartObject();
                w.WriteNumber("index", g.Index); w.WriteNumber("minor", g.Minor);
                w.WriteString("uuid", g.Uuid); w.WriteString("busId", g.BusId);
                Optional(w, "name", g.Name); Optional(w, "brand", g.Brand); Optional(w, "cc", g.ComputeCapability);
                if (g.MemoryBytes is { } mem) w.WriteNumber("memory", mem);
                w.WriteBoolean("migEnabled", g.MigEnabled);
                w.WriteBoolean("migCapable", g.MigCapable);
                if (g.AddressingMode is { } am) w.WriteNumber("addressing", am);
                w.WriteStartArray("mig");
                foreach (var m in g.MigDevices)
                {
                    w.WriteStartObject();
                    w.WriteNumber("parent", m.ParentIndex); w.WriteNumber("index", m.Index); w.WriteString("uuid", m.Uuid);
                    w.WriteNumber("gi", m.GpuInstanceId); w.WriteNumber("ci", m.ComputeInstanceId);
                    Optional(w, "profile", m.Profile);
                    if (m.MemoryBytes is { } mm) w.WriteNumber("memory", mm);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The snapshot, when <paramref name="json"/> is a whole record of this format taken under exactly <paramref name="signals"/>.</summary>
    public static NvmlSnapshot? Decode(ReadOnlySpan<byte> json, string signals)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var r = doc.RootElement;
            if (Int(r, "version") != FormatVersion || Str(r, "signals") != signals) return null;
            var gpus = new List<GpuInfo>();
            foreach (var g in r.GetProperty("gpus").EnumerateArray())
            {
                var migs = new List<MigInfo>();
                foreach (var m in g.GetProperty("mig").EnumerateArray())
                    migs.Add(new MigInfo
                    {
                        ParentIndex = Int(m, "parent")!.Value, Index = Int(m, "index")!.Value, Uuid = Need(Str(m, "uuid")),
                        GpuInstanceId = Int(m, "gi")!.Value, ComputeInstanceId = Int(m, "ci")!.Value,
                        Profile = Str(m, "profile"), MemoryBytes = ULong(m, "memory"),
                    });
                gpus.Add(new GpuInfo
                {
                    Index = Int(g, "index")!.Value, Minor = Int(g, "minor")!.Value, Uuid = Need(Str(g, "uuid")), BusId = Need(Str(g, "busId")),
                    Name = Str(g, "name"), Brand = Str(g, "brand"), ComputeCapability = Str(g, "cc"), MemoryBytes = ULong(g, "memory"),
                    MigEnabled = g.GetProperty("migEnabled").GetBoolean(), MigCapable = g.GetProperty("migCapable").GetBoolean(), MigDevices = migs,
                    AddressingMode = Int(g, "addressing"),
                });
            }
            return new NvmlSnapshot { DriverVersion = Need(Str(r, "driver")), CudaDriverVersion = Int(r, "cuda")!.Value, Gpus = gpus };
        }
        // A truncated, forged or foreign record (missing members, wrong types, not JSON) is only a miss.
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    static string Need(string? value) => value ?? throw new FormatException("a required member is missing");

    static void Optional(Utf8JsonWriter w, string name, string? value) { if (value is not null) w.WriteString(name, value); }

    static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    static ulong? ULong(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var u) ? u : null;
}

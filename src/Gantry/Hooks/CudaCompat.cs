using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Elf;

namespace Gantry.Hooks;

/// <summary>The JSON in a compat libcuda's ".note.cuda.fwd_compatibility" ELF note.</summary>
internal sealed record CudaCompatNote
{
    [JsonPropertyName("format")] public int Format { get; init; }
    [JsonPropertyName("CUDA Version")] public string? CudaVersion { get; init; }
    [JsonPropertyName("driver")] public List<ulong>? Driver { get; init; }
    [JsonPropertyName("device")] public List<ulong>? Device { get; init; }
}

// The field names in the note are matched case-insensitively, as the original's decoder does.
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, AllowTrailingCommas = true)]
[JsonSerializable(typeof(CudaCompatNote))]
internal sealed partial class CudaCompatJsonContext : JsonSerializerContext;

/// <summary>Reads the forward-compatibility note of a libcuda file; a seam so the decision can be tested without ELF files.</summary>
internal interface ICudaCompatNoteReader
{
    /// <summary>The note, or null when the file has none. path names an already opened file (/proc/self/fd/N).</summary>
    CudaCompatNote? Read(string path);
}

internal sealed class ElfCudaCompatNoteReader : ICudaCompatNoteReader
{
    public const string Section = ".note.cuda.fwd_compatibility";
    public const string Owner = "NVIDIA Corporation";

    public CudaCompatNote? Read(string path)
    {
        if (!ElfReader.TryReadNoteSection(path, Section, Owner, out var desc) || desc is null) return null;
        var json = desc.AsSpan().TrimEnd((byte)0);
        try
        {
            return JsonSerializer.Deserialize(json, CudaCompatJsonContext.Default.CudaCompatNote);
        }
        catch (JsonException)
        {
            return null; // a note we cannot read is treated as no note, which decides conservatively
        }
    }
}

/// <summary>Whether the container's CUDA forward-compat libraries should be used on this host.</summary>
internal static class CudaCompatDecision
{
    public static bool UseCompat(string compatVersion, string? hostDriverVersion, string? hostCudaVersion, CudaCompatNote? note)
    {
        var haveCompat = LenientVersion.TryParse(compatVersion, out var compat);
        var haveDriver = LenientVersion.TryParse(hostDriverVersion, out var driver);
        var hostCudaGiven = !string.IsNullOrEmpty(hostCudaVersion);
        if (note is not null)
        {
            if (haveCompat && haveDriver)
                return note.Driver is { } supported && supported.Contains(driver!.Major) && compat! > driver;
            if (hostCudaGiven)
                return LenientVersion.TryParse(note.CudaVersion, out var noteCuda)
                    && LenientVersion.TryParse(hostCudaVersion, out var hostCuda)
                    && noteCuda > hostCuda;
            return false;
        }
        if (hostCudaGiven) return false;
        return haveCompat && haveDriver && driver!.Major < compat!.Major;
    }
}

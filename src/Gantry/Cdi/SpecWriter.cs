using System.Text;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Cdi;

// Saving a spec as the original does: the lowest cdiVersion that covers the content, validation first,
// the file's extension decides the format (appended when missing), atomic temp+rename, mode 0644.
internal static class SpecWriter
{
    /// <summary>The spec's text in the given format, exactly as it goes to disk.</summary>
    public static string Serialize(Spec spec, SpecFormat format) =>
        format == SpecFormat.Json ? SpecJson.Serialize(spec) : SpecYamlWriter.Write(spec);

    public static string Extension(SpecFormat format) => format == SpecFormat.Json ? ".json" : ".yaml";

    /// <summary>
    /// The format and final path for an --output value: without an explicit --format the extension
    /// (.json/.yaml/.yml) picks the format; a path not ending in .json/.yaml gets the format's extension
    /// appended; the written file's extension decides its content, so an explicit mismatch only warns.
    /// </summary>
    public static (string Path, SpecFormat Format) ResolveOutput(string output, SpecFormat format, bool formatExplicit, Log? log = null)
    {
        var fromExtension = SpecFile.FormatOf(output);
        if (fromExtension is SpecFormat ext)
        {
            if (!formatExplicit) format = ext;
            else if (ext != format) log?.Warning($"Requested output format {Name(format)} does not match the extension of {output}; writing {Name(ext)}");
        }
        var e = Path.GetExtension(output);
        var path = e is ".json" or ".yaml" ? output : output + Extension(format);
        return (path, SpecFile.FormatOf(path) ?? format);
    }

    /// <summary>
    /// Writes the spec to a file (or to <paramref name="stdout"/> when <paramref name="output"/> is empty or "-").
    /// Sets cdiVersion to the minimum the content needs unless <paramref name="keepVersion"/>; refuses an invalid
    /// spec. Returns the path written ("-" for stdout).
    /// </summary>
    public static string Write(Spec spec, string? output, SpecFormat format, bool formatExplicit = false,
        Log? log = null, TextWriter? stdout = null, bool keepVersion = false)
    {
        var toWrite = SpecTransforms.Clone(spec);
        if (!keepVersion) toWrite.CdiVersion = SpecVersion.Minimum(toWrite);
        var problems = SpecValidator.Validate(toWrite);
        if (problems.Count > 0)
            throw new GantryException($"refusing to write an invalid CDI spec: {string.Join("; ", problems)}");

        if (string.IsNullOrEmpty(output) || output == "-")
        {
            var text = Serialize(toWrite, format);
            if (stdout is not null) { stdout.Write(text); stdout.Flush(); }
            else
            {
                // One write for the whole spec: Console.Out would issue a syscall per internal chunk.
                using var raw = Console.OpenStandardOutput();
                raw.Write(Encoding.UTF8.GetBytes(text));
            }
            return "-";
        }
        var (path, finalFormat) = ResolveOutput(output, format, formatExplicit, log);
        try
        {
            AtomicFile.Write(path, Encoding.UTF8.GetBytes(Serialize(toWrite, finalFormat)), (UnixFileMode)0b110_100_100);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GantryException($"failed to write CDI spec {path}: {WriteFailure.Cause(path, e)}", e);
        }
        return path;
    }

    static string Name(SpecFormat f) => f == SpecFormat.Json ? "json" : "yaml";
}

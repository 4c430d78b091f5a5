namespace Gantry.Cdi.Generate;

// Placeholder: wired to the spec writer (atomic, 0644, JSON/YAML) when it lands.
internal static class CdiOutput
{
    public static void Write(Spec spec, string? output, string format) => throw new NotImplementedException();
}

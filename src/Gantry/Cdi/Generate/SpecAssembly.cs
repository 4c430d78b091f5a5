namespace Gantry.Cdi.Generate;

// Placeholder: wired to the CDI transforms (dedupe, simplify, sort, merged "all", version) when they land.
internal static class SpecAssembly
{
    public static Spec Assemble(Spec spec, bool addAllDevice) => throw new NotImplementedException();
}

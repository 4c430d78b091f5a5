namespace Gantry.Hooks;

// Stub, filled in by the hooks work.
internal static class CdiHookCommand
{
    public static int Run(string programName, string[] args) => throw new NotImplementedException();
}

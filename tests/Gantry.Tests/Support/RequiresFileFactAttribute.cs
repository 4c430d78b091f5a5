namespace Gantry.Tests.Support;

/// <summary>A fact about a file the host may not have (a system library, the dynamic loader); skipped without it.</summary>
public sealed class RequiresFileFactAttribute : FactAttribute
{
    public RequiresFileFactAttribute(string path)
    {
        if (!File.Exists(path)) Skip = $"needs {path} on the host";
    }
}

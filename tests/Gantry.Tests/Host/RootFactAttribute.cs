using Gantry.Host;

namespace Gantry.Tests.Host;

/// <summary>A test that needs real root (mounts, namespaces, mknod, running ldconfig): skipped with the reason otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Interop.GetEuid() != 0) Skip = "needs root (mounts, namespaces or mknod); run the suite as root, as CI does";
    }
}

public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (Interop.GetEuid() != 0) Skip = "needs root (mounts, namespaces or mknod); run the suite as root, as CI does";
    }
}

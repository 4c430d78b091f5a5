using Gantry.Engines;
using Gantry.Host;

namespace Gantry.Tests.Support;

/// <summary>A test of the published binary: skipped with the reason when it has not been built.</summary>
internal sealed class BinaryFactAttribute : FactAttribute
{
    public BinaryFactAttribute() { if (TestEnvironment.MissingBinary() is { } why) Skip = why; }
}

internal sealed class BinaryTheoryAttribute : TheoryAttribute
{
    public BinaryTheoryAttribute() { if (TestEnvironment.MissingBinary() is { } why) Skip = why; }
}

/// <summary>A test that needs real root (mounts, namespaces, mknod, running ldconfig): skipped with the reason otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute() { if (!TestEnvironment.IsRoot) Skip = TestEnvironment.NeedsRoot; }
}

public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute() { if (!TestEnvironment.IsRoot) Skip = TestEnvironment.NeedsRoot; }
}

/// <summary>A test that drives a real engine; on CI (GANTRY_REQUIRE_ENGINES=1) it runs and fails instead of skipping.</summary>
internal sealed class EngineFactAttribute : FactAttribute
{
    public EngineFactAttribute(string engine)
    {
        if (TestEnvironment.EnginesRequired) return;
        if (TestEnvironment.MissingBinary() is { } why) Skip = why;
        else if (!TestEnvironment.IsRoot) Skip = $"{engine} tests need root";
        else if (ProcessRunner.Which(engine) is null) Skip = $"{engine} is not installed (./test.sh installs it)";
        else if (BusyboxImage.Missing() is { } m) Skip = m;
    }
}

/// <summary>The theory form of EngineFact.</summary>
internal sealed class EngineTheoryAttribute : TheoryAttribute
{
    public EngineTheoryAttribute(string engine)
    {
        if (new EngineFactAttribute(engine).Skip is { } why) Skip = why;
    }
}

namespace Gantry.Tests.Engines;

// Golden files for engine config edits live in tests/fixtures/engines (approval style): a mismatch writes
// NAME.received beside the golden; GANTRY_APPROVE=1 accepts the received text.
internal static class EngineFixtures
{
    public static string Dir { get; } = Find();

    static string Find()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "fixtures", "engines");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures/engines not found above " + AppContext.BaseDirectory);
    }

    public static string Read(string name) => File.ReadAllText(Path.Combine(Dir, name));

    public static void Verify(string name, string actual) => Verify(Dir, name, actual);

    /// <summary>The same approval rule for goldens in another fixtures directory.</summary>
    public static void Verify(string dir, string name, string actual)
    {
        Directory.CreateDirectory(dir);
        var golden = Path.Combine(dir, name);
        if (Environment.GetEnvironmentVariable("GANTRY_APPROVE") == "1") File.WriteAllText(golden, actual);
        var expected = File.Exists(golden) ? File.ReadAllText(golden) : null;
        if (expected == actual) { File.Delete(golden + ".received"); return; }
        File.WriteAllText(golden + ".received", actual);
        Assert.Fail($"{name} differs from its golden; compare {golden}.received (GANTRY_APPROVE=1 accepts it)");
    }
}

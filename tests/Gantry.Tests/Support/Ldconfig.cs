using System.Diagnostics;

namespace Gantry.Tests.Support;

/// <summary>Runs the host's ldconfig and returns what it printed; fails the test on a non-zero exit.</summary>
internal static class Ldconfig
{
    public static string? Path { get; } =
        new[] { "/usr/sbin/ldconfig", "/sbin/ldconfig" }.FirstOrDefault(File.Exists);

    public static string Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Path ?? throw new InvalidOperationException("no ldconfig"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new TimeoutException($"ldconfig {string.Join(' ', args)} did not finish"); }
        Assert.True(p.ExitCode == 0, $"ldconfig {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return stdout + stderr.Result;
    }
}

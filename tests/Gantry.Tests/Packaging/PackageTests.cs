using Gantry.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Packaging;

/// <summary>A package test: needs the published binaries, root, dpkg-deb, and a cached Debian root or debootstrap to make
/// one. On CI (GANTRY_REQUIRE_ENGINES=1) it runs and fails instead of skipping.</summary>
internal sealed class PackageFactAttribute : FactAttribute
{
    public PackageFactAttribute(string tool)
    {
        if (TestEnvironment.EnginesRequired) return;
        if (TestEnvironment.MissingBinary() is { } why) Skip = why;
        else if (!TestEnvironment.IsRoot) Skip = "package tests need root (chroot, mounts)";
        else if (ProcessRunner.Which(tool) is null) Skip = $"{tool} is not installed (./test.sh installs it)";
        else if (tool == "dpkg-deb" && !File.Exists(Path.Combine(PackageTests.DebianRoot, "usr/bin/dpkg")) && ProcessRunner.Which("debootstrap") is null)
            Skip = $"no cached Debian root in {PackageTests.DebianRoot} and debootstrap is not installed (./test.sh installs it)";
    }
}

// packaging/: the .deb installs into a clean Debian 12 root, works there and purges without a trace; the .rpm holds
// the same files and replaces the same packages.
public sealed class PackageTests
{
    internal static string DebianRoot => Environment.GetEnvironmentVariable("GANTRY_DEBIAN_ROOT") is { Length: > 0 } r ? r : "/var/cache/gantry/bookworm-minbase";

    static string Script(string name) => Path.Combine(TestEnvironment.RepoRoot, "packaging", name);

    static string Build(string script, string dist)
    {
        var r = ProcessRunner.Run("bash", [Script(script), dist], timeout: TimeSpan.FromMinutes(3));
        Assert.True(r.ExitCode == 0, $"{script} failed: {r.Combined}");
        var package = r.Stdout.Trim().Split('\n')[^1];
        Assert.True(File.Exists(package), $"{script} printed {package}, which does not exist");
        return package;
    }

    [PackageFact("dpkg-deb")]
    public void The_deb_installs_into_a_clean_Debian_root_works_there_and_purges_without_a_trace()
    {
        using var dist = new TempDir();
        var deb = Build("build-deb.sh", dist.Path);
        var info = ProcessRunner.Run("dpkg-deb", ["--field", deb, "Package", "Provides", "Conflicts", "Replaces"]);
        var fields = info.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 2))
            .ToDictionary(kv => kv[0], kv => kv[1].Split(',').Select(p => p.Trim()).ToList());
        Assert.Equal(["gantry"], fields["Package"]);
        foreach (var field in new[] { "Provides", "Conflicts", "Replaces" })
            foreach (var original in new[] { "nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools" })
                Assert.Contains(original, fields[field]);
        // Installing takes seconds once the clean root is cached; making it (debootstrap) takes a few minutes, once.
        var r = ProcessRunner.Run("bash", [Script("test-deb.sh"), deb], timeout: TimeSpan.FromMinutes(15));
        Assert.True(r.ExitCode == 0, $"test-deb.sh exited {r.ExitCode}:\n{r.Combined}");
        Assert.Contains("PASSED", r.Stdout);
    }

    [PackageFact("rpmbuild")]
    public void The_rpm_holds_every_command_name_the_config_and_the_unit_and_replaces_the_originals()
    {
        using var dist = new TempDir();
        var rpm = Build("build-rpm.sh", dist.Path);
        var files = ProcessRunner.Run("rpm", ["-qpl", rpm]).Stdout.Split('\n');
        foreach (var name in new[] { "gantry", "nvidia-ctk", "nvidia-container-runtime", "nvidia-container-runtime.cdi", "nvidia-container-runtime-hook", "nvidia-cdi-hook", "nvidia-container-cli", "nvidia-docker", "nvidia-docker-plugin" })
            Assert.Contains("/usr/bin/" + name, files);
        Assert.Contains("/usr/lib/gantry/gantry", files);
        Assert.Contains("/usr/lib/systemd/system/nvidia-docker-plugin.service", files);
        Assert.Contains("/etc/nvidia-container-runtime/config.toml", ProcessRunner.Run("rpm", ["-qpc", rpm]).Stdout.Split('\n'));
        var conflicts = ProcessRunner.Run("rpm", ["-qp", "--conflicts", rpm]).Stdout;
        var provides = ProcessRunner.Run("rpm", ["-qp", "--provides", rpm]).Stdout;
        foreach (var original in new[] { "nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools" })
        {
            Assert.Contains(original, conflicts.Split('\n'));
            Assert.Contains(original, provides.Split('\n'));
        }
    }
}

using Gantry.Tests.Support;
using System.Diagnostics;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

// The real thing: the gantry binary runs update-ldcache, re-executes itself into namespaces, pivots into the
// rootfs and runs the host's static ldconfig there. Needs root.
public sealed class UpdateLdcacheEndToEndTests
{
    // Any small real shared library of the host will do; zlib is on every Debian-like system.
    internal static string RealLib() =>
        new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib" }
            .Where(Directory.Exists).SelectMany(d => Directory.GetFiles(d, "libz.so.1.*")).First();

    static (int Code, string Stderr) RunHook(TestTree t, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(HookHarness.GantryExe) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("hook");
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(t.StateJson());
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }

    static string CacheListing(TestTree t)
    {
        var psi = new ProcessStartInfo("/sbin/ldconfig", ["-p", "-C", t.InRoot("/etc/ld.so.cache")]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return text;
    }

    static TestTree RootfsWithDriverLib()
    {
        var t = new TestTree();
        t.WriteFile("/etc/debian_version", "12\n");
        t.Mkdir("/opt/nvidia/lib");
        File.Copy(RealLib(), t.InRoot("/opt/nvidia/lib/" + Path.GetFileName(RealLib())));
        return t;
    }

    [RootFact]
    public void The_host_ldconfig_builds_the_container_cache_with_the_folder()
    {
        using var t = RootfsWithDriverLib();
        var (code, err) = RunHook(t, null, "--debug", "update-ldcache", "--folder", "/opt/nvidia/lib");
        Assert.True(code == 0, err);
        Assert.Contains("(pid 1 in its PID namespace)", err);
        Assert.Contains("libz.so.1 (", CacheListing(t));
        Assert.Contains("=> /opt/nvidia/lib/libz.so.1", CacheListing(t));
        Assert.True(File.Exists(t.InRoot("/opt/nvidia/lib/libz.so.1")), "ldconfig made the SONAME link inside the root");
        Assert.False(Directory.Exists(t.InRoot("/run/nvidia-ctk-hook")), "the scratch directory is removed");
        Assert.DoesNotContain("nvidia-ctk-hook", File.ReadAllText("/proc/self/mountinfo"));
        t.AssertSentinelUntouched();
    }

    [RootFact]
    public void A_symlinked_ld_so_cache_is_replaced_inside_the_root_not_written_through()
    {
        using var t = RootfsWithDriverLib();
        t.Symlink("/etc/ld.so.cache", t.Sentinel + "/etc/ld.so.cache");
        var (code, err) = RunHook(t, null, "update-ldcache", "--folder", "/opt/nvidia/lib");
        Assert.True(code == 0, err);
        Assert.Null(new FileInfo(t.InRoot("/etc/ld.so.cache")).LinkTarget);
        Assert.Contains("/opt/nvidia/lib/libz.so.1", CacheListing(t));
        t.AssertSentinelUntouched();
    }

    // CVE-2025-23266 class: the hook's environment must not reach the helper it starts. LD_DEBUG_OUTPUT makes
    // the dynamic loader of every process that inherits LD_DEBUG write <file>.<pid>: only the hook itself may.
    [RootFact]
    public void LD_PRELOAD_and_friends_in_the_hook_environment_do_not_reach_the_child()
    {
        using var t = RootfsWithDriverLib();
        var ldDebug = Path.Combine(t.Base, "lddebug");
        Directory.CreateDirectory(ldDebug);
        var env = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = t.InRoot("/evil/libevil.so"),
            ["LD_DEBUG"] = "files",
            ["LD_DEBUG_OUTPUT"] = Path.Combine(ldDebug, "trace"),
        };
        var (code, err) = RunHook(t, env, "update-ldcache", "--folder", "/opt/nvidia/lib");
        Assert.True(code == 0, err);
        Assert.Single(Directory.GetFiles(ldDebug));
        Assert.Contains("/opt/nvidia/lib/libz.so.1", CacheListing(t));
    }

    [RootFact]
    public void A_hostile_ld_so_conf_include_of_host_paths_reads_only_the_container()
    {
        using var t = RootfsWithDriverLib();
        t.WriteFile("/etc/ld.so.conf", $"include {t.Sentinel}/etc/*\ninclude ../../../../../../{t.Sentinel.TrimStart('/')}/etc/*\n");
        var (code, err) = RunHook(t, null, "update-ldcache", "--folder", "/opt/nvidia/lib");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("/host/lib", CacheListing(t));
        t.AssertSentinelUntouched();
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using Gantry.Host;
using Gantry.LdconfigSandbox;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Hooks;

// gantry-sandbox-exec (native/sandbox-exec): what update-ldcache's ldconfig runs under when the hook starts it
// from a confined thread. The static busybox stands in for ldconfig: it shows what the helper left it.
public sealed class SandboxExecTests
{
    static string Helper => Path.Combine(TestEnvironment.BinDir, LdconfigThreadRunner.HelperName);

    static ProcessResult Sandboxed(string filter, params string[] command) =>
        ProcessRunner.Run("sh", ["-c", $"exec 3</bin/busybox; exec '{Helper}' 3 10 64 1048576 {filter} -- {string.Join(" ", command)}"]);

    static string Filter => LdconfigSyscallFilter.Hex(LdconfigSyscallFilter.Build(RuntimeInformation.ProcessArchitecture)!);

    [BinaryFact]
    public void Limits_no_new_privs_and_the_seccomp_filter_apply_to_the_program_it_runs()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !File.Exists("/bin/busybox")) return;
        var status = Sandboxed(Filter, "cat", "/proc/self/status");
        Assert.True(status.ExitCode == 0, status.Combined);
        Assert.Contains("NoNewPrivs:\t1", status.Stdout);
        Assert.Contains("Seccomp:\t2", status.Stdout);
        var limits = Sandboxed("-", "cat", "/proc/self/limits");
        Assert.Matches(@"Max cpu time\s+10\s+10", limits.Stdout);
        Assert.Matches(@"Max open files\s+64\s+64", limits.Stdout);
        Assert.Matches(@"Max file size\s+1048576\s+1048576", limits.Stdout);
        // Its descriptor is not passed on.
        Assert.DoesNotContain("busybox", Sandboxed("-", "ls", "-l", "/proc/self/fd/").Stdout);
    }

    [BinaryFact]
    public void A_call_outside_the_allow_list_fails_and_bad_usage_is_exit_127()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !File.Exists("/bin/busybox")) return;
        using var dir = new TempDir();
        var r = Sandboxed(Filter, "mknod", dir["fifo"], "p");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Operation not permitted", r.Stderr);
        Assert.False(File.Exists(dir["fifo"]));
        Assert.Equal(127, ProcessRunner.Run(Helper, ["3", "x"]).ExitCode);
        Assert.Equal(127, Sandboxed("zz", "true").ExitCode); // not a filter
    }

    // The published hook starts the host ldconfig through the helper (the JIT build in the tests falls back to
    // the re-executed child, which the other update-ldcache tests cover).
    [RootFact]
    public void The_published_hook_runs_ldconfig_through_the_helper_in_its_jail()
    {
        if (TestEnvironment.MissingBinary() is not null) return;
        using var t = new TestTree();
        t.WriteFile("/etc/debian_version", "12\n");
        var lib = UpdateLdcacheEndToEndTests.RealLib();
        t.Mkdir("/opt/nvidia/lib");
        File.Copy(lib, t.InRoot("/opt/nvidia/lib/" + Path.GetFileName(lib)));
        var psi = new ProcessStartInfo(Path.Combine(TestEnvironment.BinDir, "nvidia-cdi-hook"), ["--debug", "update-ldcache", "--folder", "/opt/nvidia/lib"])
        { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(t.StateJson());
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err.Result);
        Assert.Contains($"through {LdconfigThreadRunner.HelperName}", err.Result);
        Assert.Contains("(pid 1 in its PID namespace)", err.Result);
        Assert.True(File.Exists(t.InRoot("/opt/nvidia/lib/libz.so.1")), "ldconfig made the SONAME link inside the root");
        Assert.True(File.Exists(t.InRoot("/etc/ld.so.cache")));
        Assert.False(Directory.Exists(t.InRoot("/run/nvidia-ctk-hook")));
        Assert.DoesNotContain("nvidia-ctk-hook", File.ReadAllText("/proc/self/mountinfo"));
        t.AssertSentinelUntouched();
    }
}

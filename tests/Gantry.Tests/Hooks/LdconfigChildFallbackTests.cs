using Gantry.Hooks;
using Gantry.LdconfigSandbox;
using Gantry.Tests.Host;
using Gantry.Tests.Support;

namespace Gantry.Tests.Hooks;

// update-ldcache confines a thread of its own (LdconfigThreadRunner); on a kernel that cannot unshare per thread
// it re-executes itself as the hidden child verb instead. Both build the same jail (LdconfigJail).
public sealed class LdconfigChildFallbackTests
{
    [RootFact]
    public void The_re_executed_child_builds_the_same_cache()
    {
        using var t = new TestTree();
        t.WriteFile("/etc/debian_version", "12\n");
        var lib = UpdateLdcacheEndToEndTests.RealLib();
        t.Mkdir("/opt/nvidia/lib");
        File.Copy(lib, t.InRoot("/opt/nvidia/lib/" + Path.GetFileName(lib)));
        var h = new HookHarness(t);
        new UpdateLdcacheHook(new LdconfigChildLauncher(h.Context.Ldconfig)).Run(
            new UpdateLdcacheHook().DefineFlags().Parse(["--folder", "/opt/nvidia/lib"]), h.Context);
        Assert.True(File.Exists(t.InRoot("/opt/nvidia/lib/libz.so.1")), "ldconfig made the SONAME link inside the root");
        Assert.False(Directory.Exists(t.InRoot("/run/nvidia-ctk-hook")));
        t.AssertSentinelUntouched();
    }
}

using System.Runtime.InteropServices;
using Gantry.Common;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.LdconfigSandbox;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class UpdateLdcacheHookTests
{
    sealed class RecordingRunner : ILdconfigRunner
    {
        public List<(string Root, string Ldconfig)> Runs { get; } = new();
        public void Run(string rootHostPath, string ldconfigHostPath, string scratchName) => Runs.Add((rootHostPath, ldconfigHostPath));
    }

    static string[] ConfFiles(TestTree t, string prefix) =>
        Directory.GetFiles(t.InRoot("/etc/ld.so.conf.d"), prefix + "*.conf").Select(File.ReadAllText).ToArray();

    [Theory]
    [InlineData(true, "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n/lib\n/usr/lib\n")]
    [InlineData(false, "/lib\n/usr/lib\n/lib64\n/usr/lib64\n/libx32\n/usr/libx32\n")]
    public void Folders_go_to_00_nvcr_and_system_dirs_to_zz_nvcr(bool debian, string zz)
    {
        using var t = new TestTree();
        if (debian) t.WriteFile("/etc/debian_version", "12\n");
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        UpdateLdcacheHook.Configure(root, ["/usr/lib/nvidia", "/usr/lib/nvidia/", "/opt/cuda//lib"], Architecture.X64, Log.Silent);
        Assert.Equal("include /etc/ld.so.conf.d/*.conf\n", File.ReadAllText(t.InRoot("/etc/ld.so.conf")));
        Assert.Equal(["/usr/lib/nvidia\n/opt/cuda/lib\n"], ConfFiles(t, "00-nvcr-"));
        Assert.Equal([zz], ConfFiles(t, "zz-nvcr-"));
        foreach (var f in Directory.GetFiles(t.InRoot("/etc/ld.so.conf.d")))
        {
            Assert.Matches(@"^(00|zz)-nvcr-[0-9]+\.conf$", Path.GetFileName(f));
            Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(f));
        }
    }

    [Fact]
    public void Folders_already_configured_or_system_dirs_are_not_added_again()
    {
        using var t = new TestTree();
        t.WriteFile("/etc/ld.so.conf", "# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/direct # trailing\n");
        t.WriteFile("/etc/ld.so.conf.d/a.conf", "/opt/from-a\ninclude nested/*.conf\n");
        t.WriteFile("/etc/ld.so.conf.d/nested/b.conf", "/opt/from-b\ninclude /etc/ld.so.conf\n"); // a loop, bounded
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        UpdateLdcacheHook.Configure(root, ["/opt/direct", "/opt/from-a", "/opt/from-b", "/usr/lib64", "/opt/new"], Architecture.X64, Log.Silent);
        Assert.Equal("# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/direct # trailing\n", File.ReadAllText(t.InRoot("/etc/ld.so.conf")));
        Assert.Equal(["/opt/new\n"], ConfFiles(t, "00-nvcr-"));
    }

    [Fact]
    public void Nothing_new_means_no_00_nvcr_file()
    {
        using var t = new TestTree();
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        UpdateLdcacheHook.Configure(root, ["/usr/lib"], Architecture.X64, Log.Silent);
        Assert.Empty(ConfFiles(t, "00-nvcr-"));
        Assert.Single(ConfFiles(t, "zz-nvcr-"));
    }

    [Theory]
    [InlineData(Architecture.X64, "ld-musl-x86_64.path")]
    [InlineData(Architecture.Arm64, "ld-musl-aarch64.path")]
    public void Alpine_gets_every_directory_appended_to_the_musl_path_file(Architecture arch, string file)
    {
        using var t = new TestTree();
        t.WriteFile("/etc/alpine-release", "3.20.0\n");
        t.WriteFile("/etc/" + file, "/existing");
        using var root = ContainerRoot.Open(LinuxSyscalls.Instance, t.Root);
        UpdateLdcacheHook.Configure(root, ["/usr/lib/nvidia"], arch, Log.Silent);
        var dirs = string.Join("", LdsoConf.SystemDirectories(false, arch).Select(d => d + "\n"));
        Assert.Equal("/existing\n/usr/lib/nvidia\n" + dirs, File.ReadAllText(t.InRoot("/etc/" + file)));
    }

    [Theory]
    [InlineData("/sbin/ldconfig", "/sbin/ldconfig.real", true, "/sbin/ldconfig.real")]
    [InlineData("/sbin/ldconfig.real", "/sbin/ldconfig.real", true, "/sbin/ldconfig.real")]
    [InlineData("/sbin/ldconfig.real", "/sbin/ldconfig", false, "/sbin/ldconfig")]
    [InlineData("/sbin/ldconfig", "/sbin/ldconfig", false, "/sbin/ldconfig")]
    [InlineData("/sbin/ldconfig", null, false, null)]
    public void The_ldconfig_path_is_normalised_around_dot_real(string flag, string? existing, bool _, string? expected)
    {
        using var t = new TestTree();
        if (existing is not null) t.WriteFile(existing, "x");
        var got = LdconfigBinary.Resolve(t.InRoot(flag));
        Assert.Equal(expected is null ? null : t.InRoot(expected), got);
    }

    [Fact]
    public void Only_a_static_ldconfig_is_run_inside_a_container()
    {
        Assert.True(LdconfigBinary.IsStaticElf("/sbin/ldconfig", out var why), why);
        Assert.False(LdconfigBinary.IsStaticElf("/bin/ls", out why));
        Assert.Contains("dynamically linked", why);
        using var t = new TestTree();
        t.WriteFile("/script", "#!/bin/sh\n");
        Assert.False(LdconfigBinary.IsStaticElf(t.InRoot("/script"), out _));
    }

    // The check reads 4 KiB first; program headers placed further in are still found (up to 64 KiB).
    [Theory]
    [InlineData(3u, false)] // PT_INTERP
    [InlineData(1u, true)]  // PT_LOAD only
    public void Program_headers_past_the_first_page_are_still_checked(uint type, bool isStatic)
    {
        var elf = new byte[20_000];
        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F'; elf[4] = 2; elf[5] = 1;
        BitConverter.TryWriteBytes(elf.AsSpan(16), (ushort)2);      // ET_EXEC
        BitConverter.TryWriteBytes(elf.AsSpan(32), 9000UL);         // e_phoff
        BitConverter.TryWriteBytes(elf.AsSpan(54), (ushort)56);     // e_phentsize
        BitConverter.TryWriteBytes(elf.AsSpan(56), (ushort)1);      // e_phnum
        BitConverter.TryWriteBytes(elf.AsSpan(9000), type);
        using var t = new TestTree();
        t.WriteFile("/elf", "");
        File.WriteAllBytes(t.InRoot("/elf"), elf);
        Assert.Equal(isStatic, LdconfigBinary.IsStaticElf(t.InRoot("/elf"), out var why));
        if (!isStatic) Assert.Contains("dynamically linked", why);
        File.WriteAllBytes(t.InRoot("/elf"), elf[..8000]); // the table cut off
        Assert.False(LdconfigBinary.IsStaticElf(t.InRoot("/elf"), out why));
        Assert.Equal("program headers out of range", why);
    }

    [Fact]
    public void A_missing_ldconfig_skips_the_hook_without_touching_the_root()
    {
        using var t = new TestTree();
        var runner = new RecordingRunner();
        var h = new HookHarness(t);
        h.Invoke(new UpdateLdcacheHook(runner), "--folder", "/x", "--ldconfig-path", "/no/such/ldconfig");
        Assert.Empty(runner.Runs);
        Assert.Empty(Directory.GetFileSystemEntries(t.Root));
        Assert.Contains("skipping", h.LogText);
    }

    [Fact]
    public void The_host_root_is_refused()
    {
        var h = new HookHarness(new TestTree(), LinuxSyscalls.Instance);
        var ctx = h.Context with { Stdin = () => new MemoryStream("""{"id":"c","root":"/"}"""u8.ToArray()) };
        var hook = new UpdateLdcacheHook(new RecordingRunner());
        var flags = hook.DefineFlags();
        flags.Parse(["--folder", "/x"]);
        Assert.Contains("host root", Assert.Throws<GantryException>(() => hook.Run(flags, ctx)).Message);
    }

    [Fact]
    public void The_child_environment_is_fixed_whatever_the_hook_inherited()
    {
        var hostile = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = "/evil.so", ["LD_LIBRARY_PATH"] = "/evil", ["DOTNET_STARTUP_HOOKS"] = "/evil.dll", ["DOTNET_ROOT"] = "/usr/share/dotnet",
        };
        Assert.Equal([new("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")], LdconfigChildLauncher.ChildEnvironment(true, k => hostile.GetValueOrDefault(k)));
        Assert.Equal(["PATH", "DOTNET_ROOT"], LdconfigChildLauncher.ChildEnvironment(false, k => hostile.GetValueOrDefault(k)).Select(kv => kv.Key));
    }

    // Hostile images (CVE-2025-23267 class: writes that follow links while updating the ld cache).
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void Symlinked_ld_so_conf_d_and_ld_so_conf_never_reach_the_host(string kind)
    {
        using var t = new TestTree();
        t.Symlink("/etc/ld.so.conf.d", t.Sentinel + "/etc/ld.so.conf.d");
        t.Symlink("/etc/ld.so.conf", t.Sentinel + "/etc/ld.so.conf");
        t.Symlink("/etc/ld-musl-x86_64.path", t.Sentinel + "/keep.txt");
        t.WriteFile("/etc/alpine-release", "3\n");
        var runner = new RecordingRunner();
        try { new HookHarness(t, Resolvers.For(kind)).Invoke(new UpdateLdcacheHook(runner), "--folder", "/host/lib", "--folder", "/usr/lib/nvidia"); }
        catch (GantryException e) { Assert.Contains("ld-musl", e.Message); } // the planted musl path link is refused
        t.AssertSentinelUntouched();
        // The host's ld.so.conf names /host/lib; it must not have been read as the container's.
        var confd = t.InRoot(t.Sentinel + "/etc/ld.so.conf.d");
        Assert.Contains("/host/lib\n/usr/lib/nvidia\n", Directory.GetFiles(confd, "00-nvcr-*").Select(File.ReadAllText));
    }
}

using System.Buffers.Binary;
using System.Text;
using Gantry.Hooks;
using Gantry.Host;
using Gantry.Tests.Host;

namespace Gantry.Tests.Hooks;

public sealed class EnableCudaCompatHookTests
{
    sealed class FakeNotes(CudaCompatNote? note) : ICudaCompatNoteReader
    {
        public List<string> Paths { get; } = new();
        public CudaCompatNote? Read(string path) { Paths.Add(path); return note; }
    }

    static readonly CudaCompatNote Note = new() { Format = 1, CudaVersion = "12.9", Driver = [535, 550, 570] };

    // compat version, host driver, host CUDA, note?, expected
    [Theory]
    [InlineData("575.57.08", "570.10", "", true, true)]      // driver major supported and older than compat
    [InlineData("575.57.08", "560.10", "", true, false)]     // driver major not in the note's list
    [InlineData("575.57.08", "575.60", "", true, false)]     // host driver newer than compat
    [InlineData("575.57.08", "", "12.4", true, true)]        // no driver: note CUDA 12.9 > host CUDA 12.4
    [InlineData("575.57.08", "", "12.9", true, false)]       // equal CUDA: no
    [InlineData("575.57.08", "", "", true, false)]
    [InlineData("575.57.08", "570.10", "", false, true)]     // no note: driver major 570 < 575
    [InlineData("575.57.08", "575.10", "", false, false)]
    [InlineData("575.57.08", "570.10", "12.4", false, false)] // no note and a host CUDA version: never
    [InlineData("575.57.08", "garbage", "", false, false)]
    public void The_decision_table_matches_the_original(string compat, string driver, string cuda, bool withNote, bool expected) =>
        Assert.Equal(expected, CudaCompatDecision.UseCompat(compat, driver, cuda, withNote ? Note : null));

    [Theory]
    [InlineData("575.57.08", "575.57.8", 0)]
    [InlineData("12.9", "12.10", -1)]
    [InlineData("v12", "12.0.0", 0)]
    [InlineData("1.0.0-rc1", "1.0.0", -1)]
    [InlineData("1.0.0-rc.2", "1.0.0-rc.10", -1)]
    public void Lenient_versions_compare_numerically(string a, string b, int sign)
    {
        Assert.True(LenientVersion.TryParse(a, out var va));
        Assert.True(LenientVersion.TryParse(b, out var vb));
        Assert.Equal(sign, Math.Sign(va.CompareTo(vb)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("1.2.3.4")]
    [InlineData("1..2")]
    public void Garbage_versions_do_not_parse(string text) => Assert.False(LenientVersion.TryParse(text, out _));

    [Fact]
    public void Note_json_field_names_match_case_insensitively()
    {
        var note = System.Text.Json.JsonSerializer.Deserialize("""{"format":1,"CUDA version":"12.9","driver":[535,575],"device":[1]}""", CudaCompatJsonContext.Default.CudaCompatNote)!;
        Assert.Equal("12.9", note.CudaVersion);
        Assert.Equal([535UL, 575UL], note.Driver);
    }

    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void The_resolved_compat_directory_is_written_to_00_compat(string kind)
    {
        using var t = new TestTree();
        t.WriteFile("/usr/local/cuda-12.9/compat/libcuda.so.575.57.08", "elf");
        t.Symlink("/usr/local/cuda-12.9/compat/libcuda.so.1", "libcuda.so.575.57.08");
        t.Symlink("/usr/local/cuda", "cuda-12.9");
        var notes = new FakeNotes(null);
        new HookHarness(t, Resolvers.For(kind)).Invoke(new EnableCudaCompatHook(notes), "--host-driver-version", "570.1");
        var conf = Assert.Single(Directory.GetFiles(t.InRoot("/etc/ld.so.conf.d")));
        Assert.Matches("^00-compat-[0-9a-f-]{36}\\.conf$", Path.GetFileName(conf));
        Assert.Equal("/usr/local/cuda-12.9/compat\n", File.ReadAllText(conf));
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(conf));
        Assert.StartsWith("/proc/self/fd/", Assert.Single(notes.Paths)); // read through the fd, never by name
    }

    [Theory]
    [InlineData("libcuda.so.575.57.08,libcuda.so.570.1.1")] // two candidates
    [InlineData("")]
    [InlineData("libcuda.so.1")]
    public void Anything_but_exactly_one_versioned_libcuda_is_a_no_op(string list)
    {
        var files = list.Split(',', StringSplitOptions.RemoveEmptyEntries);
        using var t = new TestTree();
        t.Mkdir("/usr/local/cuda/compat");
        foreach (var f in files) t.WriteFile("/usr/local/cuda/compat/" + f, "elf");
        new HookHarness(t).Invoke(new EnableCudaCompatHook(new FakeNotes(null)), "--host-driver-version", "500.1");
        Assert.False(Directory.Exists(t.InRoot("/etc/ld.so.conf.d")));
    }

    [Theory]
    [InlineData("12.4", true)]
    [InlineData("13.0", false)]
    public void With_only_the_host_cuda_version_the_compat_libraries_must_be_newer(string hostCuda, bool used)
    {
        using var t = new TestTree();
        t.WriteFile("/usr/local/cuda/compat/libcuda.so.575.57.08", "elf");
        new HookHarness(t).Invoke(new EnableCudaCompatHook(new FakeNotes(Note)), "--host-cuda-version", hostCuda);
        Assert.Equal(used, Directory.Exists(t.InRoot("/etc/ld.so.conf.d")));
    }

    [Fact]
    public void Without_host_versions_the_hook_does_not_even_read_the_state()
    {
        using var t = new TestTree();
        var h = new HookHarness(t);
        var ctx = h.Context with { Stdin = () => throw new InvalidOperationException("stdin read") };
        var hook = new EnableCudaCompatHook(new FakeNotes(null));
        hook.Run(hook.DefineFlags().Parse([]), ctx);
    }

    // CVE-2025-23359: /usr/local/cuda/compat symlinked to a host directory holding a newer libcuda.
    [Theory, MemberData(nameof(Resolvers.Both), MemberType = typeof(Resolvers))]
    public void A_compat_symlink_to_a_host_directory_is_resolved_inside_the_root(string kind)
    {
        using var t = new TestTree();
        t.WriteHostFile("libcuda.so.999.1.1", "host lib");
        t.Symlink("/usr/local/cuda/compat", t.Sentinel);
        t.Symlink("/usr/local/cuda-rel/compat", "../../../../../../../" + t.Sentinel.TrimStart('/'));
        var notes = new FakeNotes(null);
        var h = new HookHarness(t, Resolvers.For(kind));
        h.Invoke(new EnableCudaCompatHook(notes), "--host-driver-version", "570.1");
        h.Invoke(new EnableCudaCompatHook(notes), "--host-driver-version", "570.1", "--cuda-compat-container-root", "/usr/local/cuda-rel/compat");
        Assert.Empty(notes.Paths);
        Assert.False(Directory.Exists(t.InRoot("/etc/ld.so.conf.d")));
        t.AssertSentinelUntouched();
    }

    [Fact]
    public void The_ELF_note_is_read_from_a_real_ELF_file()
    {
        using var t = new TestTree();
        var path = t.InRoot("/libcuda.so.575.57.08");
        File.WriteAllBytes(path, TinyElf.WithNote(ElfCudaCompatNoteReader.Section, ElfCudaCompatNoteReader.Owner,
            Encoding.UTF8.GetBytes("""{"format":1,"CUDA Version":"12.9","driver":[570]}""")));
        var note = new ElfCudaCompatNoteReader().Read(path);
        Assert.Equal("12.9", note!.CudaVersion);
        Assert.Equal([570UL], note.Driver);
    }
}

/// <summary>A minimal ELF64 file: header, one SHT_NOTE section and the section-name table.</summary>
internal static class TinyElf
{
    public static byte[] WithNote(string section, string owner, byte[] desc)
    {
        static int Align4(int n) => (n + 3) & ~3;
        var name = Encoding.ASCII.GetBytes(owner + "\0");
        var note = new byte[12 + Align4(name.Length) + Align4(desc.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(0), (uint)name.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), 1);
        name.CopyTo(note, 12);
        desc.CopyTo(note, 12 + Align4(name.Length));
        var shstr = Encoding.ASCII.GetBytes("\0" + section + "\0.shstrtab\0");
        var noteOff = 64;
        var strOff = noteOff + note.Length;
        var shOff = Align4(strOff + shstr.Length) + 4;
        var file = new byte[shOff + 3 * 64];
        var h = file.AsSpan();
        "\u007fELF"u8.CopyTo(h);
        h[4] = 2; h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 3);     // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62);    // x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], (ulong)shOff);
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[58..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(h[60..], 3);
        BinaryPrimitives.WriteUInt16LittleEndian(h[62..], 2);
        note.CopyTo(file, noteOff);
        shstr.CopyTo(file, strOff);
        void Section(int index, uint nameOff, uint type, int off, int size)
        {
            var s = file.AsSpan(shOff + index * 64);
            BinaryPrimitives.WriteUInt32LittleEndian(s, nameOff);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(s[24..], (ulong)off);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], (ulong)size);
            BinaryPrimitives.WriteUInt64LittleEndian(s[48..], 4);
        }
        Section(1, 1, 7, noteOff, note.Length);                      // SHT_NOTE
        Section(2, (uint)(2 + section.Length), 3, strOff, shstr.Length); // SHT_STRTAB
        return file;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Gantry.Elf;
using Gantry.Tests.Support;

namespace Gantry.Tests.Elf;

public sealed class ElfRoundTripTests
{
    static readonly byte[] CompatJson = """{"format":1,"CUDA Version":"12.9","driver":[535,550,570]}"""u8.ToArray();
    static readonly ElfNote CompatNote = new(".note.cuda.fwd_compatibility", "NVIDIA Corporation", 1, CompatJson);

    [Theory]
    [InlineData((int)ElfArch.X86_64, (int)ElfClass.Elf64, 62)]
    [InlineData((int)ElfArch.I386, (int)ElfClass.Elf32, 3)]
    [InlineData((int)ElfArch.Aarch64, (int)ElfClass.Elf64, 183)]
    public void Reader_gets_back_class_machine_soname_and_needed_from_a_written_library(int archValue, int classValue, int machine)
    {
        var (arch, cls) = ((ElfArch)archValue, (ElfClass)classValue);
        var bytes = ElfWriter.SharedObject(arch, "libnvidia-glcore.so.535.104.05", ["libc.so.6", "libm.so.6", "libdl.so.2"]);

        Assert.True(ElfReader.TryParse(bytes, out var info, out var error), error);
        Assert.Equal(cls, info.Class);
        Assert.Equal(machine, info.Machine);
        Assert.Equal("libnvidia-glcore.so.535.104.05", info.Soname);
        Assert.Equal(["libc.so.6", "libm.so.6", "libdl.so.2"], info.Needed);
    }

    [Theory]
    [InlineData((int)ElfArch.X86_64)]
    [InlineData((int)ElfArch.I386)]
    [InlineData((int)ElfArch.Aarch64)]
    public void Note_sections_are_found_by_section_and_note_name(int archValue)
    {
        var arch = (ElfArch)archValue;
        using var dir = new ScratchDirectory();
        var path = dir.Write("libcuda.so.575.57.08",
            ElfWriter.SharedObject(arch, "libcuda.so.1", notes: [ElfNote.AbiTag(0, 3, 2, 0), CompatNote]));

        Assert.True(ElfReader.TryReadNoteSection(path, ".note.cuda.fwd_compatibility", "NVIDIA Corporation", out var desc));
        Assert.Equal(CompatJson, desc);
        Assert.False(ElfReader.TryReadNoteSection(path, ".note.cuda.fwd_compatibility", "NVIDIA", out _, out var error));
        Assert.Null(error);
        Assert.False(ElfReader.TryReadNoteSection(path, ".note.other", "NVIDIA Corporation", out _));
        Assert.True(ElfReader.TryReadAbiTag(path, out var tag));
        Assert.True(tag.Matches(3, 2, 0));
    }

    [Fact]
    public void The_first_matching_note_wins_and_odd_lengths_are_padded()
    {
        using var dir = new ScratchDirectory();
        var path = dir.Write("libx.so", ElfWriter.SharedObject(ElfArch.X86_64, "libx.so",
            notes: [new(".note.a", "Odd", 7, [1, 2, 3]), new(".note.a", "Odd", 7, [9])]));

        Assert.True(ElfReader.TryReadNoteSection(path, ".note.a", "Odd", out var desc));
        Assert.Equal(new byte[] { 1, 2, 3 }, desc);
    }

    [Fact]
    public void A_library_without_program_headers_is_read_through_its_dynamic_section()
    {
        var bytes = ElfWriter.SharedObject(ElfArch.X86_64, "libfoo.so.1", ["libbar.so.2"]);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(56), 0); // e_phnum

        Assert.True(ElfReader.TryParse(bytes, out var info, out var error), error);
        Assert.Equal("libfoo.so.1", info.Soname);
        Assert.Equal(["libbar.so.2"], info.Needed);
    }

    [Fact]
    public void A_library_without_section_headers_is_read_through_pt_dynamic_but_has_no_named_notes()
    {
        using var dir = new ScratchDirectory();
        var bytes = ElfWriter.SharedObject(ElfArch.I386, "libfoo.so.1", ["libc.so.6"], [CompatNote]);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), 0); // e_shoff
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(48), 0); // e_shnum
        var path = dir.Write("libfoo.so.1", bytes);

        Assert.True(ElfReader.TryRead(path, out var info, out var error), error);
        Assert.Equal("libfoo.so.1", info.Soname);
        Assert.False(ElfReader.TryReadNoteSection(path, CompatNote.SectionName, CompatNote.Name, out _, out error));
        Assert.Null(error);
    }

    [Fact]
    public void Names_are_utf8_and_bad_names_are_refused()
    {
        Assert.True(ElfReader.TryParse(ElfWriter.SharedObject(ElfArch.X86_64, "libé.so.1"), out var info, out _));
        Assert.Equal("libé.so.1", info.Soname);
        Assert.Throws<ArgumentException>(() => ElfWriter.SharedObject(ElfArch.X86_64, ""));
        Assert.Throws<ArgumentException>(() => ElfWriter.SharedObject(ElfArch.X86_64, "lib\0x.so"));
        Assert.Throws<ArgumentException>(() => ElfWriter.SharedObject(ElfArch.X86_64, "libx.so", [""]));
    }

    [RequiresFileFact("/usr/lib/x86_64-linux-gnu/libc.so.6")]
    public void A_real_system_library_is_read()
    {
        const string libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
        Assert.True(ElfReader.TryRead(libc, out var info, out var error), error);
        Assert.Equal(ElfClass.Elf64, info.Class);
        Assert.Equal(62, info.Machine);
        Assert.Equal("libc.so.6", info.Soname);
        Assert.Contains("ld-linux-x86-64.so.2", info.Needed);
        Assert.True(ElfReader.TryReadAbiTag(libc, out var tag));
        Assert.True(tag.IsLinux);
    }

    [RequiresFileFact("/lib64/ld-linux-x86-64.so.2")]
    public void The_dynamic_loader_maps_a_written_library_and_resolves_its_needed()
    {
        using var dir = new ScratchDirectory();
        var path = dir.Write("libfoo.so.1", ElfWriter.SharedObject(ElfArch.X86_64, "libfoo.so.1", ["libc.so.6"]));
        var psi = new ProcessStartInfo("/lib64/ld-linux-x86-64.so.2") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--list");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));

        Assert.Equal(0, p.ExitCode);
        Assert.Contains("libc.so.6 =>", output);
    }

    [Fact]
    public void Note_desc_round_trips_as_text()
    {
        var json = Encoding.UTF8.GetString(CompatJson);
        using var dir = new ScratchDirectory();
        var path = dir.Write("libcuda.so.1", ElfWriter.SharedObject(ElfArch.X86_64, "libcuda.so.1", notes: [CompatNote]));
        Assert.True(ElfReader.TryReadNoteSection(path, CompatNote.SectionName, CompatNote.Name, out var desc));
        Assert.Equal(json, Encoding.UTF8.GetString(desc));
    }
}

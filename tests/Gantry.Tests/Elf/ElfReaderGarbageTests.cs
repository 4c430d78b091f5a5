using System.Buffers.Binary;
using Gantry.Elf;
using Gantry.Tests.Support;

namespace Gantry.Tests.Elf;

// The reader sees whatever sits in a driver root or a container image: it must say no, never crash.
public sealed class ElfReaderGarbageTests
{
    [Theory]
    [InlineData(new byte[0], "too short")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0 }, "truncated ELF header")]
    [InlineData(new byte[] { (byte)'#', (byte)'!', (byte)'/', (byte)'b', (byte)'i', (byte)'n', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "bad magic")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "class 3")]
    [InlineData(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "big-endian")]
    public void Non_elf_and_unsupported_files_are_refused_with_a_reason(byte[] bytes, string reason)
    {
        Assert.False(ElfReader.TryParse(bytes, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_missing_file_is_an_error_that_names_it()
    {
        Assert.False(ElfReader.TryRead("/nonexistent/libcuda.so.1", out _, out var error));
        Assert.Equal("/nonexistent/libcuda.so.1: no such file", error);
        Assert.False(ElfReader.TryReadNoteSection("/nonexistent/libcuda.so.1", ".note.x", "x", out _, out error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Headers_pointing_outside_the_file_are_refused()
    {
        var bytes = ElfWriter.SharedObject(ElfArch.X86_64, "libfoo.so.1");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), 1UL << 40); // e_phoff

        Assert.False(ElfReader.TryParse(bytes, out _, out var error));
        Assert.Contains("program header table", error);
        Assert.Contains("outside the file", error);
    }

    [Fact]
    public void A_soname_offset_past_the_string_table_is_refused()
    {
        var bytes = ElfWriter.SharedObject(ElfArch.X86_64, "libfoo.so.1");
        var dynamicAt = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(64 + 56 + 8)); // PT_DYNAMIC p_offset
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(dynamicAt + 8), 100_000); // DT_SONAME value

        Assert.False(ElfReader.TryParse(bytes, out _, out var error));
        Assert.Contains("DT_SONAME", error);
    }

    [Fact]
    public void Every_truncation_of_a_valid_library_is_refused_or_read_without_crashing()
    {
        var bytes = ElfWriter.SharedObject(ElfArch.X86_64, "libfoo.so.1", ["libc.so.6"], [ElfNote.AbiTag(0, 3, 2, 0)]);
        for (var n = 0; n < bytes.Length; n++)
        {
            var ok = ElfReader.TryParse(bytes[..n], out var info, out var error);
            Assert.True(ok ? info is not null : error is not null);
        }
    }

    [Theory]
    [InlineData((int)ElfArch.X86_64)]
    [InlineData((int)ElfArch.I386)]
    public void Thousands_of_mutated_libraries_never_crash_the_reader(int archValue)
    {
        var arch = (ElfArch)archValue;
        using var dir = new ScratchDirectory();
        var valid = ElfWriter.SharedObject(arch, "libfoo.so.1", ["libc.so.6"], [ElfNote.AbiTag(0, 3, 2, 0)]);
        var rng = new Random(20240611);
        var path = dir.File("lib.so");
        for (var i = 0; i < 3000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var k = rng.Next(1, 6); k > 0; k--)
            {
                var at = rng.Next(bytes.Length);
                bytes[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => 0xff, _ => 0 };
            }
            var ok = ElfReader.TryParse(bytes, out var info, out var error);
            Assert.True(ok ? info is not null : error is not null);
            if (i % 10 == 0)
            {
                File.WriteAllBytes(path, bytes);
                ElfReader.TryReadNoteSection(path, ".note.ABI-tag", "GNU", out _, out _);
                ElfReader.TryReadAbiTag(path, out _);
            }
        }
    }

    [Fact]
    public void Random_bytes_behind_an_elf_magic_never_crash_the_reader()
    {
        var rng = new Random(7);
        for (var i = 0; i < 3000; i++)
        {
            var bytes = new byte[rng.Next(16, 400)];
            rng.NextBytes(bytes);
            "\u007fELF"u8.CopyTo(bytes);
            bytes[4] = (byte)rng.Next(1, 3);
            bytes[5] = 1;
            var ok = ElfReader.TryParse(bytes, out var info, out var error);
            Assert.True(ok ? info is not null : error is not null);
        }
    }
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Gantry.Discovery;
using Gantry.Tests.Support;

namespace Gantry.Tests.Discovery;

public sealed class LdCacheTests
{
    internal static readonly LdCacheEntry[] Sample =
    [
        new("libnvidia-ml.so.1", "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", 0x0303),
        new("libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 0x0303),
        new("libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.1", 0x0003),
        new("libcuda.so", "/usr/lib/x86_64-linux-gnu/libcuda.so", 0x0303),
        new("libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", 0x0a03),
        new("libold.so.1", "/usr/lib/libold.so.1", 0x0000),
    ];

    [Theory]
    [InlineData((int)LdCacheFormat.New)]
    [InlineData((int)LdCacheFormat.Old)]
    [InlineData((int)LdCacheFormat.Compat)]
    public void Writer_and_parser_round_trip_every_layout_in_file_order(int formatValue)
    {
        var format = (LdCacheFormat)formatValue;
        var cache = LdCache.Parse(LdCacheWriter.Write(Sample, format));

        Assert.Equal(format, cache.Format);
        Assert.Equal(Sample, cache.Entries);
    }

    [Theory]
    [InlineData((int)LdCacheFormat.New)]
    [InlineData((int)LdCacheFormat.Old)]
    [InlineData((int)LdCacheFormat.Compat)]
    public void An_empty_cache_round_trips(int formatValue) =>
        Assert.Empty(LdCache.Parse(LdCacheWriter.Write([], (LdCacheFormat)formatValue)).Entries);

    [Fact]
    public void In_the_compat_layout_the_old_entries_are_skipped()
    {
        var bytes = LdCacheWriter.Write(Sample, LdCacheFormat.Compat);
        for (var i = 0; i < Sample.Length; i++) // spoil every old entry; only the new part may be used
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16 + i * 12 + 4), 0xffff_fff0);

        Assert.Equal(Sample, LdCache.Parse(bytes).Entries);
    }

    [Fact]
    public void A_compat_cache_aligned_to_4_as_i386_ldconfig_wrote_it_is_read()
    {
        LdCacheEntry[] one = [Sample[0]];
        var aligned8 = LdCacheWriter.Write(one, LdCacheFormat.Compat);
        var aligned4 = aligned8[..28].Concat(aligned8[32..]).ToArray(); // 16 + 12 = 28: drop the 4 pad bytes

        var cache = LdCache.Parse(aligned4);
        Assert.Equal(LdCacheFormat.Compat, cache.Format);
        Assert.Equal(one, cache.Entries);
    }

    [Fact]
    public void Arch_filter_keeps_elf_entries_of_that_arch_in_order()
    {
        var cache = LdCache.Parse(LdCacheWriter.Write(Sample));

        Assert.Equal([Sample[0], Sample[1], Sample[3]], cache.ForArch(LdCache.ArchX8664));
        Assert.Equal([Sample[2]], cache.ForArch(LdCache.ArchI386)); // libold (flags 0, not ELF) is left out
        Assert.Equal([Sample[4]], cache.ForArch(LdCache.ArchAarch64));
        Assert.Equal((LdCache.ArchX8664, (int?)LdCache.ArchI386), LdCache.ArchesFor(Architecture.X64));
        Assert.Equal((LdCache.ArchAarch64, (int?)LdCache.ArchArmHf), LdCache.ArchesFor(Architecture.Arm64));
        Assert.Equal("libc6,x86-64", LdCache.Describe(0x0303));
        Assert.Equal("libc6", LdCache.Describe(0x0003));
        Assert.Equal("libc6,AArch64", LdCache.Describe(0x0a03));
    }

    [Theory]
    [InlineData("libfoo.so.10", "libfoo.so.9", 1)]
    [InlineData("libfoo.so.1", "libfoo.so.1", 0)]
    [InlineData("libfoo.so.01", "libfoo.so.1", 0)]
    [InlineData("libfoo.so", "libfoo.so.1", -1)]
    [InlineData("libfoo1.so", "libfoo.so", 1)]
    [InlineData("libA.so", "liba.so", -1)]
    [InlineData("libfoo.so.99999999999999999999", "libfoo.so.100", 1)]
    public void Names_compare_like_glibc_with_digit_runs_as_numbers(string a, string b, int sign)
    {
        Assert.Equal(sign, Math.Sign(LdCacheWriter.LibCompare(a, b)));
        Assert.Equal(-sign, Math.Sign(LdCacheWriter.LibCompare(b, a)));
    }

    [Fact]
    public void Sorting_like_ldconfig_puts_names_descending_then_flags_descending()
    {
        var sorted = LdCacheWriter.SortLikeLdconfig([Sample[3], Sample[2], Sample[0], Sample[1]]);
        Assert.Equal([Sample[0], Sample[1], Sample[2], Sample[3]], sorted);
    }

    [RequiresFileFact("/etc/ld.so.cache")]
    public void The_hosts_own_cache_parses_and_lists_libc()
    {
        Assert.True(LdCache.TryLoad("/etc/ld.so.cache", out var cache, out var error), error);
        Assert.Contains(cache.Entries, e => e.Key == "libc.so.6" && (e.Flags & LdCache.FlagElf) != 0);
    }

    [Fact]
    public void Writing_refuses_names_a_cache_cannot_hold()
    {
        Assert.Throws<ArgumentException>(() => LdCacheWriter.Write([new("", "/x", 3)]));
        Assert.Throws<ArgumentException>(() => LdCacheWriter.Write([new("libx.so", "/x\0y", 3)]));
    }
}

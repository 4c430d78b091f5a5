using System.Buffers.Binary;
using System.Diagnostics;
using Gantry.Discovery;
using Gantry.Tests.Support;

namespace Gantry.Tests.Discovery;

// ld.so.cache files come from driver roots and container images: any byte may be wrong.
public sealed class LdCacheErrorTests
{
    static byte[] Valid(LdCacheFormat format = LdCacheFormat.New) => LdCacheWriter.Write(LdCacheTests.Sample, format);

    static string ParseError(byte[] bytes) => Assert.Throws<InvalidDataException>(() => LdCache.Parse(bytes)).Message;

    [Fact]
    public void A_file_without_either_magic_is_not_a_cache() =>
        Assert.Contains("not an ld.so.cache file", ParseError("hello, world, this is not a cache file"u8.ToArray()));

    [Fact]
    public void A_short_prefix_of_the_magic_is_called_truncated() =>
        Assert.Contains("truncated", ParseError("glibc-ld"u8.ToArray()));

    [Fact]
    public void An_entry_count_larger_than_the_file_is_refused()
    {
        var bytes = Valid();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), uint.MaxValue);
        Assert.Contains("entry count 4294967295 does not fit", ParseError(bytes));

        var old = Valid(LdCacheFormat.Old);
        BinaryPrimitives.WriteUInt32LittleEndian(old.AsSpan(12), 1_000_000);
        Assert.Contains("old-format entry count 1000000", ParseError(old));
    }

    [Fact]
    public void A_string_offset_outside_the_file_is_refused_naming_the_entry()
    {
        var bytes = Valid();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(48 + 2 * 24 + 8), 0x7fff_0000); // entry 2 value
        Assert.Contains("entry 2: value offset 2147418112 points outside the file", ParseError(bytes));
    }

    [Fact]
    public void An_unterminated_string_is_refused()
    {
        var bytes = Valid(LdCacheFormat.Old);
        Array.Resize(ref bytes, bytes.Length - 1); // the last value loses its NUL
        Assert.Contains("is not NUL-terminated", ParseError(bytes));
    }

    [Fact]
    public void A_big_endian_cache_is_refused()
    {
        var bytes = Valid();
        bytes[28] = 3;
        Assert.Contains("big-endian", ParseError(bytes));
    }

    [Fact]
    public void Load_errors_name_the_file()
    {
        using var dir = new ScratchDirectory();
        var bad = dir.Write("etc/ld.so.cache", "ld.so-1.7"u8.ToArray());

        Assert.False(LdCache.TryLoad(bad, out _, out var error));
        Assert.Equal($"invalid ld.so.cache {bad}: file is truncated (9 bytes)", error);
        Assert.False(LdCache.TryLoad(dir.File("missing/ld.so.cache"), out _, out error));
        Assert.Equal($"ld.so.cache not found: {dir.File("missing/ld.so.cache")}", error);
    }

    [RequiresFileFact("/dev/zero")]
    public void An_endless_device_posing_as_a_cache_is_refused_not_read_forever()
    {
        Assert.False(LdCache.TryLoad("/dev/zero", out _, out var error));
        Assert.Equal("invalid ld.so.cache /dev/zero: file is larger than 64 MiB", error);
    }

    [Theory]
    [InlineData((int)LdCacheFormat.New)]
    [InlineData((int)LdCacheFormat.Old)]
    [InlineData((int)LdCacheFormat.Compat)]
    public void Every_truncation_of_a_valid_cache_parses_or_throws_invalid_data(int formatValue)
    {
        var bytes = Valid((LdCacheFormat)formatValue);
        for (var n = 0; n <= bytes.Length; n++)
            ParsesOrRefuses(bytes[..n]);
    }

    [Fact]
    public void Thousands_of_mutated_and_random_caches_parse_or_throw_invalid_data_quickly()
    {
        var rng = new Random(1234);
        var valid = new[] { Valid(LdCacheFormat.New), Valid(LdCacheFormat.Old), Valid(LdCacheFormat.Compat) };
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 4000; i++)
        {
            byte[] bytes;
            if (i % 4 == 0)
            {
                bytes = new byte[rng.Next(0, 300)];
                rng.NextBytes(bytes);
                var magic = rng.Next(3) switch { 0 => LdCacheParser.NewMagic, 1 => LdCacheParser.OldMagic, _ => default };
                magic[..Math.Min(magic.Length, bytes.Length)].CopyTo(bytes);
            }
            else
            {
                bytes = (byte[])valid[i % 3].Clone();
                for (var k = rng.Next(1, 5); k > 0; k--)
                    bytes[rng.Next(bytes.Length)] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => 0xff, _ => 0 };
            }
            ParsesOrRefuses(bytes);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_string_longer_than_any_path_is_refused_without_scanning_the_rest_of_the_file()
    {
        var bytes = new byte[48 + 24 + (1 << 20)];
        LdCacheParser.NewMagic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(48 + 4), 72);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(48 + 8), 72);
        bytes.AsSpan(72, 1 << 20).Fill((byte)'a');
        bytes[^1] = 0;

        Assert.Contains("entry 0: key at file offset 72 is longer than 4096 bytes", ParseError(bytes));
    }

    static void ParsesOrRefuses(byte[] bytes)
    {
        try
        {
            var cache = LdCache.Parse(bytes);
            Assert.All(cache.Entries, e => Assert.False(string.IsNullOrEmpty(e.Key) || string.IsNullOrEmpty(e.Value)));
        }
        catch (InvalidDataException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }
}

using Microsoft.Win32.SafeHandles;

namespace Gantry.Elf;

/// <summary>A malformed ELF file; the message says what is wrong and is shown to the user with the path.</summary>
internal sealed class ElfFormatException(string message) : Exception(message);

// Reads byte ranges of an ELF file without loading it whole: driver libraries run to hundreds of MiB
// and we need a few KiB of headers. Every read is bounds-checked against the file length.
internal abstract class ElfSource : IDisposable
{
    // Headers, dynamic sections and string tables are small; a larger claim is garbage, not a reason to allocate.
    public const long MaxRead = 64L << 20;

    public abstract long Length { get; }

    protected abstract void ReadExactly(long offset, Span<byte> dest);

    public byte[] Read(ulong offset, ulong count, string what)
    {
        if (offset > (ulong)Length || count > (ulong)Length - offset)
            throw new ElfFormatException($"{what} (offset 0x{offset:x}, {count} bytes) lies outside the file ({Length} bytes)");
        if (count > MaxRead)
            throw new ElfFormatException($"{what} is implausibly large ({count} bytes)");
        var buf = new byte[count];
        ReadExactly((long)offset, buf);
        return buf;
    }

    public virtual void Dispose() { }

    public static ElfSource Open(string path) => new FileSource(File.OpenHandle(path, FileMode.Open, FileAccess.Read));

    public static ElfSource FromBytes(byte[] data) => new ArraySource(data);

    sealed class FileSource(SafeFileHandle handle) : ElfSource
    {
        readonly long length = RandomAccess.GetLength(handle);

        public override long Length => length;

        protected override void ReadExactly(long offset, Span<byte> dest)
        {
            while (!dest.IsEmpty)
            {
                var n = RandomAccess.Read(handle, dest, offset);
                if (n <= 0) throw new ElfFormatException($"file ended early at offset {offset} (did it shrink while being read?)");
                dest = dest[n..];
                offset += n;
            }
        }

        public override void Dispose() => handle.Dispose();
    }

    sealed class ArraySource(byte[] data) : ElfSource
    {
        public override long Length => data.Length;
        protected override void ReadExactly(long offset, Span<byte> dest) => data.AsSpan((int)offset, dest.Length).CopyTo(dest);
    }
}

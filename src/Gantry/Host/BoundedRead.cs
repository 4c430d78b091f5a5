namespace Gantry.Host;

/// <summary>Reads from a source until its end into one buffer.</summary>
internal static class BoundedRead
{
    /// <summary>
    /// Starts from the size the file claims, one byte more to see it grow: every fresh page costs a fault, and
    /// these reads run in each container start. Grows when the claim was low, as with /proc-like files; stops
    /// with tooLarge() past maxBytes.
    /// </summary>
    public static ArraySegment<byte> All(long claimedSize, int maxBytes, Func<Memory<byte>, int> read, Func<Exception> tooLarge)
    {
        var buffer = new byte[(int)Math.Clamp(claimedSize + 1, 512, maxBytes + 1L)];
        var used = 0;
        int n;
        while ((n = read(buffer.AsMemory(used))) > 0)
        {
            used += n;
            if (used > maxBytes) throw tooLarge();
            if (used == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
        }
        return new ArraySegment<byte>(buffer, 0, used);
    }
}

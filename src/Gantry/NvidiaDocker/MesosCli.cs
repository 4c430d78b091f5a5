using System.IO.Compression;

namespace Gantry.NvidiaDocker;

// /mesos/cli: the Mesos agent flags for this host's GPUs. The attribute is /gpu/info/json, zlib-compressed and
// base64url-encoded without padding; the resources list every GPU's UUID.
internal static class MesosCli
{
    public static string Arguments(GpuInfoReport info, IGpuHost host)
    {
        var json = NvidiaDockerJson.Encode(info, NvidiaDockerJson.Types.GpuInfoReport);
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(json);
        var attribute = Convert.ToBase64String(compressed.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"--attributes=gpus:{attribute} --resources=gpus:{{{string.Join(",", host.Gpus.Select(g => g.Info.Uuid))}}}";
    }
}

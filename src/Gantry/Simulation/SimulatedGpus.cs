using System.Security.Cryptography;
using System.Text;
using Gantry.Discovery;

namespace Gantry.Simulation;

// The facts of the simulated GPUs, derived deterministically from the options so that the same
// `simulate` command always gives the same UUIDs, bus ids and therefore byte-identical CDI specs.
internal static class SimulatedGpus
{
    static readonly int[] DgxBusNumbers = [0x07, 0x0f, 0x47, 0x4e, 0x87, 0x90, 0xb7, 0xbd];

    public static NvmlSnapshot Build(SimulationOptions o)
    {
        var gpus = new List<GpuInfo>();
        for (var i = 0; i < o.GpuCount; i++)
        {
            var bus = i < DgxBusNumbers.Length ? DgxBusNumbers[i] : 0xc0 + i;
            o.Mig.TryGetValue(i, out var migCount);
            var migs = Enumerable.Range(0, migCount).Select(k => new MigInfo
            {
                ParentIndex = i, Index = k, Uuid = "MIG-" + Uuid($"{o.DriverVersion}/gpu{i}/mig{k}"),
                GpuInstanceId = 7 + k, ComputeInstanceId = 0, Profile = "1g.5gb", MemoryBytes = 4864UL << 20,
            }).ToList();
            gpus.Add(new GpuInfo
            {
                Index = i, Minor = i, Uuid = "GPU-" + Uuid($"{o.DriverVersion}/gpu{i}"),
                BusId = $"00000000:{bus:x2}:00.0", Name = o.Model, Brand = BrandOf(o.Model),
                ComputeCapability = CapabilityOf(o.Model), MemoryBytes = 40960UL << 20,
                MigEnabled = migCount > 0, MigDevices = migs,
                AddressingMode = o.AddressingModes.TryGetValue(i, out var mode) ? mode : null,
            });
        }
        return new NvmlSnapshot { DriverVersion = o.DriverVersion, CudaDriverVersion = o.EffectiveCudaVersion, Gpus = gpus };
    }

    static string Uuid(string seed)
    {
        var h = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("gantry-simulated:" + seed)));
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..32]}";
    }

    static string BrandOf(string model) =>
        model.Contains("GeForce", StringComparison.OrdinalIgnoreCase) ? "geforce" :
        model.Contains("Quadro", StringComparison.OrdinalIgnoreCase) ? "quadro" :
        model.Contains("RTX A", StringComparison.OrdinalIgnoreCase) ? "nvidiartx" : "tesla";

    static string CapabilityOf(string model) =>
        model.Contains("H100") || model.Contains("H200") ? "9.0" :
        model.Contains("A100") || model.Contains("A30") ? "8.0" :
        model.Contains("V100") ? "7.0" : model.Contains("T4") ? "7.5" : "8.6";
}

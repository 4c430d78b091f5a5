using Gantry.Discovery;

namespace Gantry.Tests.Discovery;

public sealed class ProcDriverTests
{
    [Fact]
    public void Gpus_are_read_from_the_information_files_in_pci_order()
    {
        var dir = Directory.CreateTempSubdirectory("gantry-proc-").FullName;
        try
        {
            foreach (var (bus, minor, uuid) in new[] { ("0000:0f:00.0", 3, "GPU-b"), ("0000:07:00.0", 5, "GPU-a") })
            {
                var d = Path.Combine(dir, "proc/driver/nvidia/gpus", bus);
                Directory.CreateDirectory(d);
                File.WriteAllText(Path.Combine(d, "information"), $"Model: \t\t NVIDIA T4\nGPU UUID: \t {uuid}\nBus Location: \t {bus}\nDevice Minor: \t {minor}\n");
            }
            File.WriteAllText(Path.Combine(dir, "proc/driver/nvidia/version"), "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n");
            var roots = new Gantry.Host.HostRoots(dir);
            var gpus = ProcDriver.Gpus(roots);
            Assert.Equal(["GPU-a", "GPU-b"], gpus.Select(g => g.Uuid));
            Assert.Equal([0, 1], gpus.Select(g => g.Index));
            Assert.Equal([5, 3], gpus.Select(g => g.Minor));
            Assert.Equal("00000000:07:00.0", gpus[0].BusId);
            Assert.Equal("NVIDIA T4", gpus[0].Name);
            Assert.Null(gpus[0].ComputeCapability);
            Assert.Equal("535.104.05", ProcDriver.DriverVersion(roots));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("0000:07:00.0", "00000000:07:00.0")]
    [InlineData("00000000:07:00.0", "00000000:07:00.0")]
    [InlineData("0000:3C:00.0", "00000000:3c:00.0")]
    public void Bus_ids_get_an_eight_digit_domain(string procForm, string expected) =>
        Assert.Equal(expected, ProcDriver.LongBusId(procForm));
}

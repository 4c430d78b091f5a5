using System.Runtime.InteropServices;
using Gantry.Discovery.Nvml;

namespace Gantry.Tests.Discovery;

public sealed class NvmlTypesTests
{
    [Fact]
    public unsafe void Structs_have_the_nvml_h_sizes_and_offsets()
    {
        Assert.Equal(68, sizeof(NvmlPciInfo));
        Assert.Equal(36, (int)Marshal.OffsetOf<NvmlPciInfo>(nameof(NvmlPciInfo.BusId)));
        Assert.Equal(16, (int)Marshal.OffsetOf<NvmlPciInfo>(nameof(NvmlPciInfo.Domain)));
        Assert.Equal(24, sizeof(NvmlMemory));
    }

    [Theory]
    [InlineData("00000000:3B:00.0", "00000000:3b:00.0")]
    [InlineData("0000:3b:00.0", "00000000:3b:00.0")]
    [InlineData("3B:00.0", "00000000:3b:00.0")]
    [InlineData("0001ABCD:C1:1f.0", "0001abcd:c1:1f.0")]
    [InlineData(" 00000000:01:00.1 ", "00000000:01:00.1")]
    [InlineData("garbage", null)]
    [InlineData("0000:100:00.0", null)]
    [InlineData("0000:01:20.0", null)]
    [InlineData("0000:01:00", null)]
    [InlineData("123456789:01:00.0", null)]
    public void Bus_ids_are_normalised_to_lower_case_with_an_eight_digit_domain(string input, string? expected) =>
        Assert.Equal(expected, NvmlBusId.Normalize(input));

    [Theory]
    [InlineData(0, "unknown")]
    [InlineData(1, "quadro")]
    [InlineData(2, "tesla")]
    [InlineData(5, "geforce")]
    [InlineData(11, "cloudgaming")]
    [InlineData(13, "nvidiartx")]
    [InlineData(16, "titanrtx")]
    [InlineData(17, "unknown")]
    [InlineData(-1, "unknown")]
    public void Brands_map_to_requirement_names(int value, string name)
    {
        Assert.Equal(name, NvmlBrand.NameOf(value));
        if (name != "unknown") Assert.True(NvmlBrand.TryParse(name.ToUpperInvariant(), out var back) && back == value);
    }

    [Theory]
    [InlineData("NVIDIA A100-SXM4-40GB MIG 1g.5gb", "1g.5gb")]
    [InlineData("NVIDIA H100 80GB HBM3 MIG 1g.10gb+me", "1g.10gb+me")]
    [InlineData("NVIDIA A100-SXM4-40GB", null)]
    [InlineData(null, null)]
    public void MIG_profiles_come_from_the_MIG_device_name(string? name, string? profile) =>
        Assert.Equal(profile, NvmlReader.ProfileFromName(name));
}

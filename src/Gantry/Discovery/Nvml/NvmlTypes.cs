using System.Runtime.InteropServices;

namespace Gantry.Discovery.Nvml;

// Layouts, buffer sizes and codes exactly as nvml.h: the same binding talks to the real libnvidia-ml.so.1
// and to Gantry's stand-in (native/nvml-standin/nvml.c), so nothing here may be "close enough".

/// <summary>nvmlReturn_t values the binding acts on.</summary>
internal static class NvmlReturn
{
    public const int Success = 0;
    public const int Uninitialized = 1;
    public const int InvalidArgument = 2;
    public const int NotSupported = 3;
    public const int NotFound = 6;
    public const int InsufficientSize = 7;
    public const int DriverNotLoaded = 9;
    public const int FunctionNotFound = 13;
}

internal static class NvmlBuffers
{
    public const int SystemDriverVersion = 80;   // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE
    public const int DeviceUuidV2 = 96;          // NVML_DEVICE_UUID_V2_BUFFER_SIZE
    public const int DeviceNameV2 = 96;          // NVML_DEVICE_NAME_V2_BUFFER_SIZE
    public const int MigEnable = 1;              // NVML_DEVICE_MIG_ENABLE
}

/// <summary>nvmlDeviceAddressingMode_v1_t: a versioned struct (size | 1 << 24) whose value is an nvmlDeviceAddressingModeType_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlAddressingMode
{
    public const uint V1 = 8 | (1u << 24);
    public uint Version;
    public uint Value;
}

/// <summary>nvmlPciInfo_t (the layout of nvmlDeviceGetPciInfo_v3), 68 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NvmlPciInfo
{
    public fixed byte BusIdLegacy[16];
    public uint Domain;
    public uint Bus;
    public uint Device;
    public uint PciDeviceId;
    public uint PciSubSystemId;
    public fixed byte BusId[32];
}

/// <summary>nvmlMemory_t (v1, used by nvmlDeviceGetMemoryInfo), 24 bytes; order is total, free, used.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NvmlMemory
{
    public ulong Total;
    public ulong Free;
    public ulong Used;
}

/// <summary>nvmlBrandType_t ↔ the lower-case names requirement expressions compare against (brand=tesla).</summary>
internal static class NvmlBrand
{
    // Index = enum value. NVML_BRAND_NVIDIA_VGAMING is an alias of CLOUD_GAMING (11).
    static readonly string[] Names =
    [
        "unknown", "quadro", "tesla", "nvs", "grid", "geforce", "titan", "vapps", "vpc", "vcs", "vws",
        "cloudgaming", "quadrortx", "nvidiartx", "nvidia", "geforcertx", "titanrtx",
    ];

    public static string NameOf(int value) => value >= 0 && value < Names.Length ? Names[value] : "unknown";

    public static bool TryParse(string name, out int value)
    {
        value = Array.FindIndex(Names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return value >= 0;
    }
}

internal static class NvmlBusId
{
    /// <summary>
    /// Gantry's one spelling of a PCI bus id: lower-case hex, 8-digit domain, "0000000a:3b:00.0". It is what
    /// libnvidia-container prints ("%08x:%02x:%02x.0"); the sysfs name is this with the first 4 digits dropped.
    /// Accepts NVML's upper-case busId, the legacy 4-digit-domain form, and a missing domain; null if unparsable.
    /// </summary>
    public static string? Normalize(string busId)
    {
        var parts = busId.Trim().Split(':');
        if (parts.Length is < 2 or > 3) return null;
        var domainText = parts.Length == 3 ? parts[0] : "0";
        var busText = parts[^2];
        var devFn = parts[^1].Split('.');
        if (devFn.Length != 2) return null;
        if (!TryHex(domainText, out var domain) || !TryHex(busText, out var bus) || bus > 0xff
            || !TryHex(devFn[0], out var dev) || dev > 0x1f || !TryHex(devFn[1], out var fn) || fn > 7)
            return null;
        return Format(domain, bus, dev, fn);
    }

    public static string Format(uint domain, uint bus, uint device, uint function = 0) =>
        $"{domain:x8}:{bus:x2}:{device:x2}.{function:x}";

    static bool TryHex(string s, out uint value) =>
        uint.TryParse(s, System.Globalization.NumberStyles.AllowHexSpecifier, null, out value) && s.Length <= 8;
}

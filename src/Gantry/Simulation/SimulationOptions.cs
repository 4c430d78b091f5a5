using Gantry.Common;

namespace Gantry.Simulation;

/// <summary>How the simulated host should look. Parsed from `gantry simulate` flags.</summary>
internal sealed record SimulationOptions
{
    public int GpuCount { get; init; } = 2;
    public string DriverVersion { get; init; } = "550.54.15";
    public int? CudaVersion { get; init; }
    public string Model { get; init; } = "NVIDIA A100-SXM4-40GB";
    /// <summary>GPU index → number of MIG devices on it.</summary>
    public IReadOnlyDictionary<int, int> Mig { get; init; } = new Dictionary<int, int>();
    /// <summary>GPU index → nvmlDeviceGetAddressingMode's value (0 none, 1 HMM, 2 ATS); unreported for the others.</summary>
    public IReadOnlyDictionary<int, int> AddressingModes { get; init; } = new Dictionary<int, int>();
    public bool WithNvml { get; init; } = true;
    public bool WithFirmware { get; init; } = true;
    public bool WithGraphics { get; init; } = true;
    public bool WithCompat32 { get; init; }
    public bool WithIpc { get; init; } = true;
    public int ImexChannels { get; init; }
    /// <summary>A WSL2 guest: /dev/dxg and the driver under /usr/lib/wsl instead of /dev/nvidia* and a native driver.</summary>
    public bool Wsl { get; init; }
    /// <summary>Gated device families whose nodes (and host files) the host has: gds, mofed, gdrcopy, nvswitch.</summary>
    public IReadOnlySet<string> GatedFamilies { get; init; } = new HashSet<string>();
    public static readonly string[] KnownGatedFamilies = ["gds", "mofed", "gdrcopy", "nvswitch"];
    /// <summary>Install the driver under this sub-directory (e.g. run/nvidia/driver) as GPU operators do.</summary>
    public string DriverRootPrefix { get; init; } = "";
    /// <summary>True: real character devices (needs root); false: plain files; null: real when root.</summary>
    public bool? RealDeviceNodes { get; init; }
    /// <summary>Path of the NVML stand-in library; null finds it next to the gantry executable.</summary>
    public string? NvmlStandIn { get; init; }
    /// <summary>Persistence mode of the GPUs; while off, every nvmlInit takes <see cref="NvmlInitDelayMs"/>.</summary>
    public bool Persistence { get; init; } = true;
    public int NvmlInitDelayMs { get; init; }

    public int EffectiveCudaVersion => CudaVersion ?? DriverFileSet.CudaVersionFor(DriverVersion);

    public static SimulationOptions FromFlags(FlagSet f)
    {
        var gpus = int.TryParse(f.Get("gpus"), out var g) ? g : throw new UsageException($"--gpus must be a number, got '{f.Get("gpus")}'");
        if (gpus is < 1 or > 16) throw new UsageException($"--gpus must be between 1 and 16, got {gpus}");
        var driver = f.GetOr("driver", "550.54.15");
        if (!System.Text.RegularExpressions.Regex.IsMatch(driver, @"^\d+\.\d+(\.\d+)?$"))
            throw new UsageException($"--driver must look like 550.54.15, got '{driver}'");
        int? cuda = null;
        if (f.Get("cuda") is { Length: > 0 } c)
        {
            var parts = c.Split('.');
            if (parts.Length != 2 || !int.TryParse(parts[0], out var cm) || !int.TryParse(parts[1], out var cn))
                throw new UsageException($"--cuda must look like 12.4, got '{c}'");
            cuda = cm * 1000 + cn * 10;
        }
        var mig = new Dictionary<int, int>();
        foreach (var item in f.GetList("mig").Where(i => i != "none"))
        {
            var kv = item.Split(':', '=');
            if (kv.Length != 2 || !int.TryParse(kv[0], out var gi) || !int.TryParse(kv[1], out var n) || gi < 0 || gi >= gpus || n is < 1 or > 7)
                throw new UsageException($"--mig takes GPU:COUNT with a GPU below {gpus} and 1..7 MIG devices, got '{item}'");
            mig[gi] = n;
        }
        var addressing = new Dictionary<int, int>();
        foreach (var item in f.GetList("addressing-mode"))
        {
            var kv = item.Split(':', '=');
            int? mode = kv.Length == 2 ? kv[1].ToLowerInvariant() switch { "none" => 0, "hmm" => 1, "ats" => 2, _ => null } : null;
            if (mode is null || !int.TryParse(kv[0], out var gi) || gi < 0 || gi >= gpus)
                throw new UsageException($"--addressing-mode takes GPU:MODE with a GPU below {gpus} and MODE ats, hmm or none, got '{item}'");
            addressing[gi] = mode.Value;
        }
        var without = f.GetList("without").ToHashSet(StringComparer.Ordinal);
        foreach (var w in without)
            if (w is not ("nvml" or "firmware" or "graphics" or "ipc"))
                throw new UsageException($"--without takes nvml, firmware, graphics or ipc, got '{w}'");
        var gated = f.GetList("with").ToHashSet(StringComparer.Ordinal);
        foreach (var w in gated)
            if (!KnownGatedFamilies.Contains(w)) throw new UsageException($"--with takes {string.Join(", ", KnownGatedFamilies)}, got '{w}'");
        bool? real = f.GetOr("device-nodes", "auto") switch
        {
            "auto" => null, "char" => true, "plain" => false,
            var other => throw new UsageException($"--device-nodes takes auto, char or plain, got '{other}'"),
        };
        var persistence = f.GetOr("persistence", "on") switch
        {
            "on" => true, "off" => false,
            var other => throw new UsageException($"--persistence takes on or off, got '{other}'"),
        };
        var delay = int.TryParse(f.GetOr("nvml-init-delay", "0"), out var ms) && ms is >= 0 and <= 600_000 ? ms
            : throw new UsageException($"--nvml-init-delay takes milliseconds (0..600000), got '{f.Get("nvml-init-delay")}'");
        return new SimulationOptions
        {
            Persistence = persistence, NvmlInitDelayMs = delay,
            GpuCount = gpus, DriverVersion = driver, CudaVersion = cuda, Mig = mig, AddressingModes = addressing, Model = f.GetOr("model", "NVIDIA A100-SXM4-40GB"),
            WithNvml = !without.Contains("nvml"), WithFirmware = !without.Contains("firmware"),
            WithGraphics = !without.Contains("graphics"), WithIpc = !without.Contains("ipc"),
            WithCompat32 = f.GetBool("compat32"),
            GatedFamilies = gated, Wsl = f.GetBool("wsl"),
            ImexChannels = int.TryParse(f.Get("imex-channels"), out var ic) && ic >= 0 ? ic : 0,
            DriverRootPrefix = (f.Get("driver-root-prefix") ?? "").Trim('/'),
            RealDeviceNodes = real, NvmlStandIn = f.Get("nvml-standin"),
        };
    }
}

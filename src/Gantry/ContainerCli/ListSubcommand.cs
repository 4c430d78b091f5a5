using Gantry.Devices;
using Gantry.Discovery;

namespace Gantry.ContainerCli;

// `nvidia-container-cli list`: one root-relative path per line, in the original's fixed order (devices, IMEX
// channels, MIG config/monitor caps, binaries, libraries, 32-bit libraries, IPCs, firmware). Gantry adds the
// capability flags of `configure` to narrow libraries, binaries, IPCs and device nodes to what those capabilities mount.
internal static class ListSubcommand
{
    const string Name = ContainerCliCommand.Program + " list";
    const string Doc = "Query the driver and list the components required in order to configure a container with GPU support.";

    internal static readonly ArgpOption[] Options =
    [
        new("device", 'd', ArgpArg.Required, "ID", "Device UUID(s) or index(es) to list"),
        new("libraries", 'l', ArgpArg.None, null, "List driver libraries"),
        new("binaries", 'b', ArgpArg.None, null, "List driver binaries"),
        new("ipcs", 'i', ArgpArg.None, null, "List driver ipcs"),
        new("firmwares", 'f', ArgpArg.None, null, "List driver firmwares"),
        new("compat32", null, ArgpArg.None, null, "Enable 32bits compatibility"),
        new("mig-config", null, ArgpArg.Required, "ID", "MIG devices to list config capabilities files for"),
        new("mig-monitor", null, ArgpArg.Required, "ID", "MIG devices to list monitor capabilities files for"),
        new("imex-channel", null, ArgpArg.Required, "CHANNEL", "IMEX channel ID(s) to inject"),
        new("no-persistenced", null, ArgpArg.None, null, "Don't include the NVIDIA persistenced socket"),
        new("no-fabricmanager", null, ArgpArg.None, null, "Don't include the NVIDIA fabricmanager socket"),
        new("no-gsp-firmware", null, ArgpArg.None, null, "Don't include GSP firmware"),
        new("compute", 'c', ArgpArg.None, null, "Only what the compute capability mounts (gantry)"),
        new("utility", 'u', ArgpArg.None, null, "Only what the utility capability mounts (gantry)"),
        new("video", 'v', ArgpArg.None, null, "Only what the video capability mounts (gantry)"),
        new("graphics", 'g', ArgpArg.None, null, "Only what the graphics capability mounts (gantry)"),
        new("display", 'D', ArgpArg.None, null, "Only what the display capability mounts (gantry)"),
        new("ngx", 'n', ArgpArg.None, null, "Only what the ngx capability mounts (gantry)"),
    ];

    static readonly (string Flag, DriverCapability Cap)[] CapabilityFlags =
    [
        ("compute", DriverCapability.Compute), ("utility", DriverCapability.Utility), ("video", DriverCapability.Video),
        ("graphics", DriverCapability.Graphics), ("display", DriverCapability.Display), ("ngx", DriverCapability.Ngx),
    ];

    public static int Run(string[] args, CliGlobals globals)
    {
        var p = Argp.Parse(Name, args, Options, inOrder: false);
        if (p.Has("help")) { Console.Write(Argp.HelpText(Name, "", Doc, Options)); return 0; }
        if (p.Has("usage")) { Console.WriteLine(Argp.UsageText(Name, "", Options)); return 0; }
        if (p.Has("version")) { Console.Write(ContainerCliVersion.Text); return 0; }
        if (p.Operands.Count > 0) throw new ArgpException($"{Name}: Too many arguments");

        var req = ListRequest.From(p, CapabilityFlags);
        var imex = ImexChannels(req.ImexChannels);
        var d = DriverQuery.Load(globals);
        var log = globals.Log;
        var sel = DeviceSelection.Parse(req.Devices, d.Gpus);
        var migConfig = MigCaps.Select("mig-config", req.MigConfig, sel);
        var migMonitor = MigCaps.Select("mig-monitor", req.MigMonitor, sel);
        var caps = req.Capabilities ?? DriverCapability.All;
        var o = new DriverOptions(p.Has("no-persistenced"), p.Has("no-fabricmanager"), p.Has("no-gsp-firmware"));

        var w = new StringWriter { NewLine = "\n" };
        if (d.Csv is { } csv)
        {
            WriteCsv(w, req, csv);
            Console.Out.Write(w.ToString());
            return 0;
        }
        var mig = new MigCaps(d.Roots);
        if (req.Devices is not null)
        {
            foreach (var n in DriverComponents.ControlDevices(d, req.Capabilities)) w.WriteLine(n);
            // A WSL2 GPU has no node of its own (the original prints "(null)" for each): /dev/dxg above serves them all.
            if (d.Wsl is null) foreach (var g in sel.Gpus) w.WriteLine($"/dev/nvidia{g.Minor}");
            if (migConfig is null && migMonitor is null)
                foreach (var (parent, m) in sel.Migs) mig.WriteAccess(w, parent, m);
        }
        foreach (var c in imex) w.WriteLine($"/dev/nvidia-caps-imex-channels/channel{c}");
        if (migConfig is { Count: > 0 }) mig.WriteGlobal(w, "config", migConfig);
        if (migMonitor is { Count: > 0 }) mig.WriteGlobal(w, "monitor", migMonitor);
        if (req.Binaries) foreach (var b in DriverComponents.Binaries(d, caps, log)) w.WriteLine(b);
        if (req.Libraries)
        {
            foreach (var l in DriverComponents.Libraries(d, caps, lib32: false, log)) w.WriteLine(l);
            if (req.Compat32) foreach (var l in DriverComponents.Libraries(d, caps, lib32: true, log)) w.WriteLine(l);
        }
        if (req.Ipcs) foreach (var i in DriverComponents.Ipcs(d, caps, o, log)) w.WriteLine(i);
        if (req.Firmwares) foreach (var f in DriverComponents.Firmwares(d, o, log)) w.WriteLine(f);
        Console.Out.Write(w.ToString());
        return 0;
    }

    // A Jetson without NVML: what its CSV mount specs name and the host has. Device nodes with --device, the
    // libraries, the sym entries' links and the directories with --libraries (the original's Jetson library prints nothing).
    static void WriteCsv(TextWriter w, ListRequest req, Discovery.Tegra.CsvHostFiles csv)
    {
        if (req.Devices is not null) foreach (var n in csv.Devices) w.WriteLine(n);
        if (!req.Libraries) return;
        foreach (var l in csv.Libraries) w.WriteLine(l);
        foreach (var s in csv.Symlinks) w.WriteLine(s.Path);
        foreach (var dir in csv.Directories) w.WriteLine(dir);
    }

    // Decimal ids below 2^20, comma-separated and repeatable.
    internal static List<uint> ImexChannels(string? spec)
    {
        var ids = new List<uint>();
        if (spec is null) return ids;
        foreach (var item in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ImexChannelKind.TryParseChannel(item, out var id))
                throw new ContainerCliException($"error parsing IMEX info: unsupported IMEX channel value: {item}");
            if (!ids.Contains(id)) ids.Add(id);
        }
        return ids;
    }
}

/// <summary>What `list` was asked for, after the original's rule: no options at all means "everything".</summary>
internal sealed record ListRequest(string? Devices, bool Libraries, bool Binaries, bool Ipcs, bool Firmwares, bool Compat32,
    string? MigConfig, string? MigMonitor, string? ImexChannels, DriverCapability? Capabilities)
{
    public static ListRequest From(ArgpResult p, (string Flag, DriverCapability Cap)[] capabilityFlags)
    {
        string? Joined(string name) =>
            p.Options.Where(o => o.Name == name).Select(o => o.Value!).ToList() is { Count: > 0 } v ? string.Join(',', v) : null;
        DriverCapability? caps = null;
        foreach (var (flag, cap) in capabilityFlags)
            if (p.Has(flag)) caps = (caps ?? DriverCapability.None) | cap;
        var r = new ListRequest(Joined("device"), p.Has("libraries"), p.Has("binaries"), p.Has("ipcs"), p.Has("firmwares"), p.Has("compat32"),
            Joined("mig-config"), Joined("mig-monitor"), Joined("imex-channel"), caps);
        // The original counts argv words: none, or a single "--imex-channel=N"; Gantry's capability flags do not count.
        var capWords = p.Options.Count(o => capabilityFlags.Any(c => c.Flag == o.Name));
        var words = p.ArgvCount - capWords;
        if (words == 0 || (words == 1 && r.ImexChannels is not null))
            r = r with { Devices = "all", MigConfig = null, MigMonitor = null, Compat32 = true, Libraries = true, Binaries = true, Ipcs = true, Firmwares = true };
        return r;
    }
}

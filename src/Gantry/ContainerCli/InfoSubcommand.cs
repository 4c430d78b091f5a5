namespace Gantry.ContainerCli;

// `nvidia-container-cli info [--csv]`: the driver and its GPUs, in the original's exact layout
// (labels padded to 15 columns; facts the driver did not give print as "(null)", as glibc's printf does).
internal static class InfoSubcommand
{
    const string Name = ContainerCliCommand.Program + " info";
    const string Doc = "Query the driver and report its information as well as the devices it detected.";
    internal static readonly ArgpOption[] Options = [new("csv", null, ArgpArg.None, null, "Output in CSV format")];

    public static int Run(string[] args, CliGlobals globals)
    {
        var parsed = Argp.Parse(Name, args, Options, inOrder: false);
        if (parsed.Has("help")) { Console.Write(Argp.HelpText(Name, "", Doc, Options)); return 0; }
        if (parsed.Has("usage")) { Console.WriteLine(Argp.UsageText(Name, "", Options)); return 0; }
        if (parsed.Has("version")) { Console.Write(ContainerCliVersion.Text); return 0; }
        if (parsed.Operands.Count > 0) throw new ArgpException($"{Name}: Too many arguments");
        var driver = DriverQuery.Load(globals);
        Console.Out.Write(parsed.Has("csv") ? Csv(driver) : Text(driver));
        return 0;
    }

    // A fact the driver did not give (a Jetson without NVML has no NVRM version, UUID or bus id).
    static string N(string? s) => string.IsNullOrEmpty(s) ? "(null)" : s;

    public static string Text(CliDriver d)
    {
        var w = new StringWriter { NewLine = "\n" };
        w.WriteLine($"{"NVRM version:",-15} {N(d.NvrmVersion)}");
        w.WriteLine($"{"CUDA version:",-15} {N(d.CudaVersion)}");
        for (var i = 0; i < d.Gpus.Count; i++)
        {
            var g = d.Gpus[i];
            w.WriteLine();
            w.WriteLine($"{"Device Index:",-15} {i}");
            w.WriteLine($"{"Device Minor:",-15} {g.Minor}");
            w.WriteLine($"{"Model:",-15} {N(g.Name)}");
            w.WriteLine($"{"Brand:",-15} {N(DriverQuery.BrandName(g.Brand))}");
            w.WriteLine($"{"GPU UUID:",-15} {N(g.Uuid)}");
            w.WriteLine($"{"Bus Location:",-15} {N(DriverQuery.BusLocation(g.BusId))}");
            w.WriteLine($"{"Architecture:",-15} {N(g.ComputeCapability)}");
        }
        return w.ToString();
    }

    public static string Csv(CliDriver d)
    {
        var w = new StringWriter { NewLine = "\n" };
        w.WriteLine("NVRM version,CUDA version");
        w.WriteLine($"{N(d.NvrmVersion)},{N(d.CudaVersion)}");
        w.WriteLine();
        w.WriteLine("Device Index,Device Minor,Model,Brand,GPU UUID,Bus Location,Architecture");
        for (var i = 0; i < d.Gpus.Count; i++)
        {
            var g = d.Gpus[i];
            w.WriteLine($"{i},{g.Minor},{N(g.Name)},{N(DriverQuery.BrandName(g.Brand))},{N(g.Uuid)},{N(DriverQuery.BusLocation(g.BusId))},{N(g.ComputeCapability)}");
        }
        return w.ToString();
    }
}

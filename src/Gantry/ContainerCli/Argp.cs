namespace Gantry.ContainerCli;

internal enum ArgpArg { None, Required, Optional }

/// <summary>One option as GNU argp declares it: long name, optional short letter, argument kind, help.</summary>
internal sealed record ArgpOption(string Long, char? Short, ArgpArg Arg, string? ArgName, string Help);

/// <summary>A bad command line, worded as glibc's getopt/argp word it; printed with the "Try … --help" hint.</summary>
internal sealed class ArgpException(string message) : Exception(message);

/// <summary>What a parse found: options in command-line order (long name, value) and the operands.</summary>
internal sealed record ArgpResult(List<(string Name, string? Value)> Options, List<string> Operands, int ArgvCount)
{
    public bool Has(string name) => Options.Exists(o => o.Name == name);
}

// getopt_long as argp drives it: "--name=value", "--name value" (required arguments only), unique prefixes of
// long names, clustered short options ("-kd FILE", "-dFILE"), optional arguments only when attached, "--" ends
// options. In order (the global options) stops at the first operand; otherwise operands may sit anywhere.
internal static class Argp
{
    public static readonly ArgpOption Help = new("help", '?', ArgpArg.None, null, "Give this help list");
    public static readonly ArgpOption Usage = new("usage", null, ArgpArg.None, null, "Give a short usage message");
    public static readonly ArgpOption Version = new("version", 'V', ArgpArg.None, null, "Print program version");

    public static ArgpResult Parse(string program, IReadOnlyList<string> args, IReadOnlyList<ArgpOption> declared, bool inOrder)
    {
        var options = declared.Concat([Help, Usage, Version]).ToList();
        var found = new List<(string, string?)>();
        var operands = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--") { operands.AddRange(args.Skip(i + 1)); break; }
            if (arg.Length < 2 || arg[0] != '-')
            {
                if (inOrder) { operands.AddRange(args.Skip(i)); break; }
                operands.Add(arg);
                continue;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal)) i = Long(program, args, i, options, found);
            else i = Short(program, args, i, options, found);
        }
        return new ArgpResult(found, operands, args.Count);
    }

    static int Long(string program, IReadOnlyList<string> args, int i, List<ArgpOption> options, List<(string, string?)> found)
    {
        var body = args[i][2..];
        var eq = body.IndexOf('=');
        var name = eq >= 0 ? body[..eq] : body;
        string? value = eq >= 0 ? body[(eq + 1)..] : null;
        var opt = options.FirstOrDefault(o => o.Long == name);
        if (opt is null)
        {
            var candidates = options.Where(o => o.Long.StartsWith(name, StringComparison.Ordinal)).ToList();
            if (candidates.Count > 1)
                throw new ArgpException($"{program}: option '--{name}' is ambiguous; possibilities:" +
                                        string.Concat(candidates.Select(c => $" '--{c.Long}'")));
            opt = candidates.Count == 1 ? candidates[0] : throw new ArgpException($"{program}: unrecognized option '--{name}'");
        }
        switch (opt.Arg)
        {
            case ArgpArg.None when value is not null:
                throw new ArgpException($"{program}: option '--{opt.Long}' doesn't allow an argument");
            case ArgpArg.Required when value is null:
                if (i + 1 >= args.Count) throw new ArgpException($"{program}: option '--{opt.Long}' requires an argument");
                value = args[++i];
                break;
        }
        found.Add((opt.Long, value));
        return i;
    }

    static int Short(string program, IReadOnlyList<string> args, int i, List<ArgpOption> options, List<(string, string?)> found)
    {
        var arg = args[i];
        for (var k = 1; k < arg.Length; k++)
        {
            var c = arg[k];
            var opt = options.FirstOrDefault(o => o.Short == c) ?? throw new ArgpException($"{program}: invalid option -- '{c}'");
            if (opt.Arg == ArgpArg.None) { found.Add((opt.Long, null)); continue; }
            var rest = arg[(k + 1)..];
            if (rest.Length > 0) { found.Add((opt.Long, rest)); return i; }
            if (opt.Arg == ArgpArg.Optional) { found.Add((opt.Long, null)); return i; }
            if (i + 1 >= args.Count) throw new ArgpException($"{program}: option requires an argument -- '{c}'");
            found.Add((opt.Long, args[i + 1]));
            return i + 1;
        }
        return i;
    }

    public static string TryHint(string program) => $"Try `{program} --help' or `{program} --usage' for more information.";

    /// <summary>argp's --help layout: usage line, doc, options sorted within their group, the built-ins last.</summary>
    public static string HelpText(string program, string usageArgs, string doc, IReadOnlyList<ArgpOption> options,
        IReadOnlyList<(string Name, string Help)>? commands = null)
    {
        var w = new StringWriter();
        w.WriteLine($"Usage: {program} [OPTION...]{(usageArgs.Length > 0 ? " " + usageArgs : "")}");
        w.WriteLine(doc);
        w.WriteLine();
        w.WriteLine("  Options:");
        foreach (var o in options.OrderBy(o => o.Short?.ToString() ?? o.Long, StringComparer.Ordinal)) Line(w, o);
        if (commands is not null)
        {
            w.WriteLine();
            w.WriteLine("  Commands:");
            foreach (var (name, help) in commands) w.WriteLine($"  {name,-27}{help}");
        }
        w.WriteLine();
        foreach (var o in new[] { Help, Usage, Version }) Line(w, o);
        w.WriteLine();
        w.WriteLine("Mandatory or optional arguments to long options are also mandatory or optional");
        w.WriteLine("for any corresponding short options.");
        w.WriteLine();
        w.WriteLine("Report bugs to https://github.com/NVIDIA/libnvidia-container/issues.");
        return w.ToString();
    }

    static void Line(StringWriter w, ArgpOption o)
    {
        var arg = o.Arg switch { ArgpArg.Required => $"={o.ArgName}", ArgpArg.Optional => $"[={o.ArgName}]", _ => "" };
        var names = (o.Short is { } s ? $"-{s}, " : "    ") + $"--{o.Long}{arg}";
        w.WriteLine(names.Length <= 25 ? $"  {names,-25}  {o.Help}" : $"  {names}\n{"",29}{o.Help}");
    }

    public static string UsageText(string program, string usageArgs, IReadOnlyList<ArgpOption> options)
    {
        var shorts = string.Concat(options.Concat([Help, Version]).Where(o => o.Short is not null && o.Arg == ArgpArg.None).Select(o => o.Short));
        var parts = new List<string> { $"Usage: {program}", $"[-{shorts}]" };
        parts.AddRange(options.Where(o => o.Short is not null && o.Arg != ArgpArg.None)
            .Select(o => o.Arg == ArgpArg.Optional ? $"[-{o.Short}[{o.ArgName}]]" : $"[-{o.Short} {o.ArgName}]"));
        parts.AddRange(options.Concat([Help, Usage, Version]).Select(o =>
            o.Arg switch { ArgpArg.Required => $"[--{o.Long}={o.ArgName}]", ArgpArg.Optional => $"[--{o.Long}[={o.ArgName}]]", _ => $"[--{o.Long}]" }));
        if (usageArgs.Length > 0) parts.Add(usageArgs);
        return string.Join(' ', parts);
    }
}
